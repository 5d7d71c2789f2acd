"""The `classifier` command: thin typer commands over the package's modules.

Heavy libraries (scikit-learn, pandas) are imported inside command bodies so
that `classifier --help` starts fast. Errors are one line on stderr with the
exit codes of :mod:`classifier.errors`:

  0 ok · 1 some input failed (rest processed) · 2 usage · 3 model refused ·
  4 --fail-on gate tripped · 5 queue database error
"""

import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import click
import typer

from classifier import __version__
from classifier.errors import EXIT_GATE, EXIT_INPUT, EXIT_INTERNAL, EXIT_USAGE, ClassifierError
from classifier.schema import (
    DECISIONS, OUTPUT_FORMATS, PARTITION_FORMATS, Decision, Engine, InputFormat, OutputFormat, QueueDecision,
    QueueStatus, Role, Task,
)  # fmt: skip

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 some input failed (reported on stderr, the rest processed); "
    "2 usage error; 3 model missing, tampered or incompatible; 4 --fail-on gate tripped; "
    "5 queue database locked or corrupted; 70 internal error (a bug)."
)

# Plain click help, without rich: rich (and the markdown parser it pulls in) took most of the
# start-up time of `classifier --help` (bench/bench_start.py). typer imports rich whenever it is
# installed, even with rich_markup_mode=None, unless told it is not there.
typer.core.HAS_RICH = False

app = typer.Typer(
    name="classifier",
    rich_markup_mode=None,
    help="Offline, French-first moderation of news comments: parse pages, score (hostile, "
    "shouting, sentiment), train, and run a moderation queue.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
queue_app = typer.Typer(
    help="The moderation queue: ingest, list, decide, export, settings and moderator accounts (SQLite or PostgreSQL).",
    rich_markup_mode=None,
    no_args_is_help=True,
)
app.add_typer(queue_app, name="queue")

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: json, jsonl, csv or table.", case_sensitive=False),
]


RawCsvOption = Annotated[
    bool,
    typer.Option(
        "--raw-csv",
        help="With --format csv, write cells as they are (for programs, classifier train among them): by default "
        "a text starting with =, +, -, @, tab or CR gets a leading ' so that spreadsheets do not run it as a formula.",
    ),
]


def write_records(*args, **kwargs) -> int:
    """:func:`classifier.output.write_records`, imported when a command writes (keeps ``--help`` fast)."""
    from classifier.output import write_records as write

    return write(*args, **kwargs)


def fail(message: str) -> None:
    """Print one diagnostic line on stderr (never a traceback)."""
    typer.echo(f"classifier: {message}", err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"classifier {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Offline, French-first moderation of news comments."""


# ---------------------------------------------------------------------------- commands
# Each command lives in its own section below; keep bodies thin (parse args, call a module, print).


# ---- parse


PARSE_COLUMNS = ("id", "page", "author", "published", "text", "reply_to", "status")
PARSE_TABLE_COLUMNS = ("n", "author", "published", "reply", "text")


def _column_option(flags: tuple[str, ...], what: str, defaults: str) -> typer.models.OptionInfo:
    return typer.Option(
        *flags, show_default=False,
        help=f"Column (CSV, Parquet) or field (JSONL) holding {what} (default: the first of {defaults}).",
    )  # fmt: skip


@app.command(epilog="Example: classifier parse seeds/ --format table")
def parse(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files or directories (every file inside, sorted); '-' reads stdin.", show_default=False),
    ],
    fmt: Annotated[
        Optional[OutputFormat],
        typer.Option(
            "--format", "-f", case_sensitive=False, show_default=False,
            help="Output format: jsonl or csv (one record per comment), json (pages with status, declared and "
            "found counts, and their comments) or table. Default: table on a terminal, jsonl otherwise.",
        ),
    ] = None,  # fmt: skip
    input_format: Annotated[
        InputFormat,
        typer.Option("--input-format", "-i", case_sensitive=False, help="Input format; auto detects it per file."),
    ] = InputFormat.auto,
    keep_deleted: Annotated[
        bool,
        typer.Option(
            "--keep-deleted",
            help="Keep Disqus deleted/spam posts and WordPress spam/trash comments (with their status).",
        ),
    ] = False,
    text_column: Annotated[
        Optional[str], _column_option(("--text-column",), "the comment", "text, comment, body, content, message")
    ] = None,
    author_column: Annotated[
        Optional[str], _column_option(("--author-column",), "the author's name", "author, user, name, username")
    ] = None,
    published_column: Annotated[
        Optional[str],
        _column_option(
            ("--published-column", "--date-column"), "the timestamp", "published, date, created_at, timestamp"
        ),
    ] = None,
    id_column: Annotated[
        Optional[str], _column_option(("--id-column",), "the comment's own id", "id, comment_id")
    ] = None,
    reply_to_column: Annotated[
        Optional[str],
        _column_option(("--reply-to-column",), "the parent comment's id", "reply_to, parent, parent_id, in_reply_to"),
    ] = None,
    page_column: Annotated[
        Optional[str], _column_option(("--page-column",), "the page or URL", "page, url, article, thread")
    ] = None,
    raw_csv: RawCsvOption = False,
) -> None:
    """Isolate comments (author, timestamp, text, replies) from pages and exports.

    Reads page text dumps (like seeds/), HTML pages with schema.org comments
    (JSON-LD or microdata), Disqus and WordPress (WXR) exports, and CSV, JSONL or
    Parquet tables of comments; the format is detected per file. One record per
    comment, in document order: id (stable across runs), page, author, published
    (ISO 8601, with the UTC offset when the source gives one), text (paragraphs
    kept), reply_to (the parent's id) and status (from exports). Pages whose
    comments are closed, empty or absent have no comment: see their status with
    --format json or table. Warnings (encoding fallback, declared count mismatch,
    skipped rows) go to stderr.

    Exit codes: 0 ok; 1 some file could not be parsed (one line each on stderr,
    the others parsed); 2 usage.
    """
    from classifier.parse import iter_pages

    report = _Failures()
    options = {
        "keep_deleted": keep_deleted, "text_column": text_column, "author_column": author_column,
        "published_column": published_column, "id_column": id_column, "reply_to_column": reply_to_column,
        "page_column": page_column,
    }  # fmt: skip
    pages = iter_pages(paths, input_format.value, on_error=report, **options)
    fmt = fmt or (OutputFormat.table if sys.stdout.isatty() else OutputFormat.jsonl)
    if fmt is OutputFormat.json:
        write_records((page.to_dict() for page in pages), fmt)
    elif fmt is OutputFormat.table:
        for page in pages:
            _print_page_table(page)
    elif fmt is OutputFormat.csv:
        records = [c.to_dict() for page in pages for c in page.comments]
        columns = list(dict.fromkeys([*PARSE_COLUMNS, *(k for r in records for k in r)]))
        write_records(records, fmt, columns=columns, raw_csv=raw_csv)
    else:
        write_records((c.to_dict() for page in pages for c in page.comments), fmt)
    if report.count:
        raise typer.Exit(EXIT_INPUT)


def _short_time(published: str | None) -> str:
    """``2015-09-19 19:55`` (with ``+01:00`` when the source gave an offset) for a narrow table."""
    from datetime import datetime

    if not published or "T" not in published:
        return published or ""
    try:
        stamp = datetime.fromisoformat(published)
    except ValueError:
        return published
    offset = " " + stamp.isoformat()[19:].lstrip(".0123456789") if stamp.tzinfo else ""
    return stamp.strftime("%Y-%m-%d %H:%M") + offset


def _print_page_table(page) -> None:
    """A status line for the page, then its comments as a table (fits the terminal, 80 columns)."""
    import shutil

    from classifier.output import format_table, visible

    width = min(shutil.get_terminal_size((80, 24)).columns, 120)
    status = f": {page.status}, {len(page.comments)} comment{'s' * (len(page.comments) != 1)}"
    if page.declared_count is not None:
        status += f" (declared {page.declared_count})"
    source = visible(page.source)
    if len(source) + len(status) > width:
        source = "…" + source[-(width - len(status) - 1) :]
    typer.echo(source + status)
    if not page.comments:
        return
    number = {c.id: n for n, c in enumerate(page.comments, 1)}
    rows = [
        {
            "n": n,
            "author": c.author or "",
            "published": _short_time(c.published),
            "reply": f"#{number[c.reply_to]}" if c.reply_to in number else "",
            "text": c.text,
        }
        for n, c in enumerate(page.comments, 1)
    ]
    typer.echo(format_table(rows, PARSE_TABLE_COLUMNS, width=width))
    typer.echo("")


# ---- score


#: ``--fail-on``: the decisions a gate can stop at (every one but approve).
FailOn = Enum("FailOn", {d.name: d.value for d in Decision if d is not Decision.approve}, type=str)


#: ``score --format``: the output formats, and those of the partitions of ``--engine dask``.
ScoreFormat = Enum("ScoreFormat", {f: f for f in dict.fromkeys([*OUTPUT_FORMATS, *PARTITION_FORMATS])}, type=str)

SCORE_TABLE_COLUMNS = ("hostile", "shouting", "decision", "sentiment", "text")


#: The TOML policy file (thresholds, shouting) that `classifier calibrate` writes; score, queue ingest and serve read it.
ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="TOML file with [thresholds] review/reject and [policy] shouting (options win over it)."),
]


@app.command(
    epilog="Example: classifier score seeds/ --format table\n\n"
    "On a Dask cluster: classifier score 'archive/*.parquet' --engine dask --workers 2 --out scored/"
)
def score(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Files or directories to score ('-' = stdin): CSV, TSV, JSONL or Parquet rows (see --text-column), "
            "or any page or export that 'classifier parse' reads. Stdin holds one comment per line, or JSONL.",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        Optional[list[str]], typer.Option("--text", "-t", help="A comment to score (repeatable).", show_default=False)
    ] = None,
    text_column: Annotated[
        Optional[str],
        typer.Option(
            "--text-column",
            help="Column (CSV, Parquet) or field (JSONL) holding the comment. "
            "Default: the first of text, comment, body, content, message.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        Optional[ScoreFormat],
        typer.Option(
            "--format", "-f", case_sensitive=False,
            help="Output format: json, jsonl, csv or table. Default: table on a terminal, jsonl otherwise. "
            "With --engine dask, the partitions' format: parquet (default), jsonl or csv.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    model: Annotated[
        Optional[Path], typer.Option("--model", help="Hostile model directory (default: the shipped model).")
    ] = None,
    sentiment_model: Annotated[
        Optional[Path],
        typer.Option("--sentiment-model", help="Sentiment model directory (default: the shipped one, if built)."),
    ] = None,
    fail_on: Annotated[
        Optional[FailOn],
        typer.Option(
            "--fail-on", case_sensitive=False,
            help="Exit with code 4 if any comment reached this decision ('review' is also reached by 'reject').",
        ),
    ] = None,  # fmt: skip
    review_threshold: Annotated[
        Optional[float],
        typer.Option("--review-threshold", min=0.0, max=1.0, help="Hostile probability from which to review."),
    ] = None,
    reject_threshold: Annotated[
        Optional[float],
        typer.Option("--reject-threshold", min=0.0, max=1.0, help="Hostile probability from which to reject."),
    ] = None,
    config: ConfigOption = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (each loads the model once).")] = 1,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Comments scored per model call (bounds memory).")
    ] = 2000,
    with_sentiment: Annotated[
        bool, typer.Option("--sentiment/--no-sentiment", help="Add the sentiment (--no-sentiment: faster, fields empty).")
    ] = True,
    with_reasons: Annotated[
        bool,
        typer.Option("--reasons/--no-reasons", help="Explain flagged comments (--no-reasons: faster, only the shouting rule)."),
    ] = True,
    with_attributes: Annotated[
        bool,
        typer.Option("--attributes/--no-attributes", help="Add the attribute model's scores (--no-attributes: faster, fields empty)."),
    ] = True,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine", case_sensitive=False,
            help="local: this process (and --jobs); dask: partitions scored on a Dask cluster, written to --out.",
        ),
    ] = Engine.local,  # fmt: skip
    scheduler: Annotated[
        Optional[str],
        typer.Option("--scheduler", help="--engine dask: a running scheduler (tcp://HOST:8786); default: a local cluster."),
    ] = None,
    workers: Annotated[
        Optional[int],
        typer.Option("--workers", min=1, help="--engine dask, no --scheduler: local worker processes (default: the cores)."),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="--engine dask: directory for the partitions (part-00000.parquet, ...)."),
    ] = None,
    partition_rows: Annotated[
        int,
        typer.Option("--partition-rows", min=1, help="--engine dask: rows per partition, about (Parquet row groups, JSONL lines)."),
    ] = 50_000,
    raw_csv: RawCsvOption = False,
) -> None:
    """Score comments: hostile probability, shouting, sentiment, decision and reasons.

    Each output record keeps the input fields and adds hostile, the attributes
    (toxicity, severe_toxicity, insult, threat, identity_attack, profanity), shouting,
    caps_ratio, sentiment (and the negative/neutral/positive probabilities), decision
    (approve/review/reject from the model card's thresholds, a config file or the
    options), reasons, language and model. A bad row is reported on stderr with its row number
    and skipped; a summary line ends on stderr.

    With --engine dask, files (globs are expanded; a directory means the files in it)
    are read as partitions by the workers of a Dask cluster and written to --out as
    part-NNNNN files holding the same records; bad rows and the summary are reported
    as above. A scheduler that cannot be reached is a usage error (2).

    Exit codes: 0 ok; 1 some row or file failed (the rest was scored); 2 usage;
    3 model missing or refused; 4 --fail-on reached (wins over 1).
    """
    from classifier import batch

    load_args = {
        "path": str(model) if model else None,
        "sentiment_path": str(sentiment_model) if sentiment_model else None,
        "config": str(config) if config else None,
        "review": review_threshold,
        "reject": reject_threshold,
        "sentiment": with_sentiment,
        "reasons": with_reasons,
        "attributes": with_attributes,
    }
    if engine is Engine.dask:
        _score_on_dask(paths, text, out, fmt, load_args, scheduler, workers, text_column, chunk_size, partition_rows, fail_on, raw_csv)
        return
    if out or scheduler or workers:
        raise click.UsageError("--out, --scheduler and --workers need --engine dask")
    if fmt is not None and fmt.value not in OUTPUT_FORMATS:
        raise click.UsageError(f"--format {fmt.value} needs --engine dask and --out")
    if not paths and not text:
        if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
            raise click.UsageError("nothing to score: give PATH, '-' for stdin, or --text")
        paths = ["-"]
    report = _Failures()
    counts = dict.fromkeys(DECISIONS, 0)
    progress = _Progress() if sys.stderr.isatty() else None

    def counted(records):
        for record in records:
            counts[record["decision"]] += 1
            yield record

    rows = batch.iter_rows(paths or [], text or [], text_column, report, on_warning=_warning)
    records = batch.score_rows(rows, load_args, jobs, chunk_size, on_chunk=progress)
    fmt = OutputFormat(fmt.value) if fmt else (OutputFormat.table if sys.stdout.isatty() else OutputFormat.jsonl)
    write_records(counted(records), fmt, table_columns=SCORE_TABLE_COLUMNS, raw_csv=raw_csv)
    sys.stdout.flush()
    if progress:
        progress.done()
    _score_summary(counts, report.count, fail_on)


def _score_on_dask(paths, texts, out, fmt, load_args, scheduler, workers, text_column, chunk_size, partition_rows, fail_on, raw_csv) -> None:
    """``score --engine dask``: files only, partitions written to --out (classifier/scale.py)."""
    if texts or not paths or "-" in paths:
        raise click.UsageError("--engine dask scores files (give PATH or globs; not --text or stdin)")
    if out is None:
        raise click.UsageError("--engine dask writes partitions: give --out DIR")
    if scheduler and workers:
        raise click.UsageError("--workers starts a local cluster; it cannot go with --scheduler")
    from classifier import scale

    report = _Failures()
    progress = _Progress() if sys.stderr.isatty() else None
    counts = scale.score_files(
        paths, out, fmt=fmt.value if fmt else "parquet", args=load_args, scheduler=scheduler, workers=workers,
        text_column=text_column, chunk_size=chunk_size, partition_rows=partition_rows, on_error=report,
        on_warning=_warning, on_part=progress, raw_csv=raw_csv,
    )  # fmt: skip
    if progress:
        progress.done()
    _score_summary(counts, report.count, fail_on)


def _score_summary(counts: dict[str, int], failures: int, fail_on: Optional[FailOn]) -> None:
    """The summary line of ``score`` on stderr, then its exit code (4 wins over 1)."""
    from classifier.policy import reaches

    flagged = counts["review"] + counts["reject"]
    typer.echo(
        f"classifier: scored {sum(counts.values())}, flagged {flagged} "
        f"(review {counts['review']}, reject {counts['reject']}), failed {failures}",
        err=True,
    )
    if fail_on is not None and any(n and reaches(d, fail_on.value) for d, n in counts.items()):
        raise typer.Exit(EXIT_GATE)
    if failures:
        raise typer.Exit(EXIT_INPUT)


def _warning(message: str) -> None:
    fail(f"warning: {message}")


class _Failures:
    """Prints each failure as one line and counts them (the exit code depends on the count)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        fail(message)


class _Progress:
    """A one-line counter on stderr (only used when stderr is a terminal)."""

    def __init__(self) -> None:
        self.count = 0
        self.start = time.monotonic()

    def __call__(self, n: int) -> None:
        self.count += n
        rate = self.count / max(time.monotonic() - self.start, 1e-9)
        sys.stderr.write(f"\rscored {self.count:,} comments ({rate:,.0f}/s)")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


# ---- queue (moderation queue: ingest, list, decide, export, settings) and serve

DbOption = Annotated[
    str,
    typer.Option(
        "--db", help="The queue database: a SQLite file, or a postgresql://USER@HOST/DB URL (several servers share one).",
        show_default=False,
    ),
]
QUEUE_TABLE_COLUMNS = ("id", "status", "hostile", "shouting", "author", "text")


@queue_app.command("ingest", epilog="Example: classifier queue ingest --db queue.db seeds/ comments.jsonl")
def queue_ingest(
    db: DbOption,
    sources: Annotated[
        list[str],
        typer.Argument(help="Pages, exports, CSV/JSONL files or directories ('-' = stdin): anything 'classifier parse' reads."),
    ],
    input_format: Annotated[
        InputFormat,
        typer.Option("--input-format", "-i", case_sensitive=False, help="Input format; auto detects it per file."),
    ] = InputFormat.auto,
    model: Annotated[
        Optional[Path], typer.Option("--model", help="Hostile model directory (default: the shipped model).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Parse, score and enqueue comments; idempotent by comment id (a second run adds nothing).

    The database is created if missing. New comments wait in pending unless the
    deployment's opt-in rules ('classifier queue settings') decide them on arrival.
    A summary goes to stderr. Exit codes: 0 ok; 1 some source failed (the rest was
    queued); 3 model refused; 5 database locked or corrupted.
    """
    from classifier.moderator import Moderator
    from classifier.queue import ingest
    from classifier.store import open_store

    store = open_store(db, create=True)
    report = ingest(store, sources, Moderator.load(model, config=config), input_format=input_format.value, on_error=fail)
    store.close()
    typer.echo(f"classifier: {db}: {report.summary()}", err=True)
    if report.failed:
        raise typer.Exit(EXIT_INPUT)


@queue_app.command("list", epilog="Example: classifier queue list --db queue.db --status pending --limit 20")
def queue_list(
    db: DbOption,
    status: Annotated[QueueStatus, typer.Option("--status", help="Which comments.", case_sensitive=False)] = QueueStatus.pending,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many (pending: highest priority first).")] = 50,
    page: Annotated[Optional[str], typer.Option("--page", help="Only this page (article URL).")] = None,
    author: Annotated[Optional[str], typer.Option("--author", help="Only this author.")] = None,
    attribute: Annotated[
        Optional[str], typer.Option("--attribute", help="Only hostile (>= 0.5), shouting, or suspect comments.")
    ] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Text or author contains this (3+ characters).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List queued comments: pending by review priority, decided ones latest first, optionally filtered."""
    from classifier.store import Filters, open_store

    try:
        filters = Filters(page=page, author=author, attribute=attribute, search=search)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    store = open_store(db)
    write_records(store.list_comments(status.value, limit, 0, filters), fmt, table_columns=QUEUE_TABLE_COLUMNS)


@queue_app.command("decide", epilog="Example: classifier queue decide --db queue.db 3f2a9c0d1e2b4a5f reject --note insulte")
def queue_decide(
    db: DbOption,
    comment_id: Annotated[str, typer.Argument(help="The comment id (see 'classifier queue list').")],
    decision: Annotated[QueueDecision, typer.Argument(help="approve, reject, or undo (back to pending).", case_sensitive=False)],
    note: Annotated[Optional[str], typer.Option("--note", help="Why (kept in the decision log and the export).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "cli",
    fmt: FormatOption = OutputFormat.json,
) -> None:
    """Record a moderator decision (the same as the web page's buttons) and print the comment."""
    from classifier.store import UnknownComment, open_store

    store = open_store(db)
    try:
        comment = store.decide(comment_id, decision.value, by=by, note=note)
    except UnknownComment:
        raise ClassifierError(f"{db}: no comment {comment_id!r} in the queue") from None
    except ValueError as exc:
        raise ClassifierError(str(exc)) from None
    write_records([comment], fmt, table_columns=QUEUE_TABLE_COLUMNS)


@queue_app.command(
    "export",
    epilog="Example: classifier queue export --db queue.db --holdout 0.2 --holdout-out heldout.csv --raw-csv > decisions.csv",
)
def queue_export(
    db: DbOption,
    fmt: FormatOption = OutputFormat.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
    holdout: Annotated[
        float,
        typer.Option("--holdout", min=0.0, max=1.0, help="Share of decisions set aside (stable by comment id) for --holdout-out."),
    ] = 0.0,
    holdout_out: Annotated[
        Optional[Path], typer.Option("--holdout-out", help="File for the held-out decisions (to evaluate a retrained model).")
    ] = None,
    raw_csv: RawCsvOption = False,
) -> None:
    """Export moderator decisions as labelled training data for 'classifier train'.

    Columns: text, label (rejected = 1, approved = 0), author, published, decision,
    decided_by, decided_at, note, model, id, page. Only comments a person decided
    (not the rules applied at ingest). With --holdout, a stable share of them goes
    to --holdout-out instead, to measure the model before and after retraining:
    classifier train decisions.csv other.csv --eval heldout.csv --out models/NAME
    """
    from classifier.queue import EXPORT_COLUMNS, export_rows, split_holdout
    from classifier.store import open_store

    if holdout and holdout_out is None:
        raise click.UsageError("--holdout needs --holdout-out FILE")
    kept, held = split_holdout(export_rows(open_store(db)), holdout)
    for part, target in ((kept, out), (held, holdout_out)):
        if part is held and target is None:
            continue
        stream = open(target, "w", encoding="utf-8", newline="") if target else sys.stdout
        try:
            if part or fmt is not OutputFormat.csv:
                write_records(part, fmt, stream, columns=EXPORT_COLUMNS, raw_csv=raw_csv)
            else:
                stream.write(",".join(EXPORT_COLUMNS) + "\n")  # an empty export still has its header
        finally:
            if target:
                stream.close()
    typer.echo(f"classifier: exported {len(kept)} decision(s)" + (f", {len(held)} held out" if holdout_out else ""), err=True)


@queue_app.command("settings", epilog="Example: classifier queue settings --db queue.db --auto-reject-above 0.95 --ban connard --suspect traître")
def queue_settings(
    db: DbOption,
    auto_approve_below: Annotated[
        Optional[str], typer.Option("--auto-approve-below", help="Approve on arrival below this hostile probability ('off' to disable).")
    ] = None,
    auto_reject_above: Annotated[
        Optional[str], typer.Option("--auto-reject-above", help="Reject on arrival above this hostile probability ('off' to disable).")
    ] = None,
    ban: Annotated[Optional[list[str]], typer.Option("--ban", help="A banned word: rejects on arrival (repeatable).")] = None,
    unban: Annotated[Optional[list[str]], typer.Option("--unban", help="Remove a banned word (repeatable).")] = None,
    suspect: Annotated[
        Optional[list[str]], typer.Option("--suspect", help="A suspect word: holds in pending and is highlighted (repeatable).")
    ] = None,
    unsuspect: Annotated[Optional[list[str]], typer.Option("--unsuspect", help="Remove a suspect word (repeatable).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Only print the settings.")] = False,
) -> None:
    """Show or change the deployment's opt-in queue rules (all off by default), printed as JSON.

    Rules apply to comments ingested afterwards. Words match whole words, ignoring case and accents.
    """
    from classifier.queue import update_settings
    from classifier.store import open_store

    store = open_store(db, create=True)
    current = store.settings()
    thresholds = {"auto_approve_below": auto_approve_below, "auto_reject_above": auto_reject_above}
    changed = update_settings(
        current, **{k: v for k, v in thresholds.items() if v is not None},
        ban=ban or (), unban=unban or (), suspect=suspect or (), unsuspect=unsuspect or (),
    )  # fmt: skip
    if changed != current and not show:
        store.save_settings(changed)
        current = changed
    write_records(current.to_dict(), OutputFormat.json)


@queue_app.command("claim", epilog="Example: classifier queue claim --db queue.db --by alice --limit 5 --format table")
def queue_claim(
    db: DbOption,
    by: Annotated[str, typer.Option("--by", help="The moderator the comments are reserved for.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="How many comments to hold in all.")] = 10,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Reserve the highest-priority free pending comments for one moderator (10 minutes), as the page does.

    Comments the moderator already holds are renewed and counted in --limit; two
    moderators claiming at once never get the same comment.
    """
    from classifier.store import open_store

    store = open_store(db)
    write_records(store.claim(by, limit), fmt, table_columns=QUEUE_TABLE_COLUMNS)


user_app = typer.Typer(
    help="Moderator accounts: each has a token (shown once) and a role.", rich_markup_mode=None, no_args_is_help=True
)
queue_app.add_typer(user_app, name="user")




@user_app.command("add", epilog="Example: classifier queue user add --db queue.db camille --role moderator")
def user_add(
    db: DbOption,
    name: Annotated[str, typer.Argument(help="The account name, recorded as decided_by.")],
    role: Annotated[Role, typer.Option("--role", help="moderator: decide; admin: also settings, accounts, export.")] = Role.moderator,
) -> None:
    """Create an account and print its new token on stdout, once: only its sha256 is stored.

    A revoked account can be added again (it gets a new token). Exit codes: 1 the
    account exists or the name is invalid; 5 database error.
    """
    from classifier.accounts import add_user
    from classifier.store import open_store

    store = open_store(db, create=True)
    try:
        token = add_user(store, name, role.value)
    except ValueError as exc:
        raise ClassifierError(str(exc)) from None
    finally:
        store.close()
    typer.echo(token)
    typer.echo(f"classifier: account {name!r} ({role.value}) created; give it this token, it is not shown again", err=True)


@user_app.command("list", epilog="Example: classifier queue user list --db queue.db --format table")
def user_list(db: DbOption, fmt: FormatOption = OutputFormat.table) -> None:
    """List the accounts: name, role, created, revoked (never a token)."""
    from classifier.accounts import list_users
    from classifier.store import open_store

    write_records(list_users(open_store(db)), fmt, table_columns=("name", "role", "active", "created_at", "revoked_at"))


@user_app.command("revoke", epilog="Example: classifier queue user revoke --db queue.db camille")
def user_revoke(db: DbOption, name: Annotated[str, typer.Argument(help="The account to revoke.")]) -> None:
    """Revoke an account's token at once (its requests get 401; its decisions keep its name). Exit 1: no such account."""
    from classifier.store import UnknownUser, open_store

    store = open_store(db)
    try:
        store.revoke_user(name)
    except UnknownUser:
        raise ClassifierError(f"{db}: no account {name!r}") from None
    typer.echo(f"classifier: account {name!r} revoked", err=True)


#: Idle keep-alive connections stay open this long (uvicorn's 5 s default broke clients such as
#: google-api-python-client's httplib2, which reuse a connection after a pause without retrying).
KEEP_ALIVE_SECONDS = 75


@app.command(epilog="Example: CLASSIFIER_TOKEN=s3cret classifier serve --db postgresql://classifier@127.0.0.1/queue --port 8000")
def serve(
    db: DbOption,
    host: Annotated[str, typer.Option("--host", help="Interface to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    token_file: Annotated[
        Optional[Path], typer.Option("--token-file", help="File holding the deployment's admin token (else $CLASSIFIER_TOKEN).")
    ] = None,
    model: Annotated[
        Optional[Path], typer.Option("--model", help="Hostile model directory for /api/score (default: the shipped model).")
    ] = None,
    rate_limit: Annotated[
        Optional[float],
        typer.Option("--perspective-rate-limit", min=1, help="Perspective API: requests per minute per key (429 beyond)."),
    ] = None,
    store_analyzed: Annotated[
        bool,
        typer.Option("--perspective-store", help="Perspective API: queue comments analyzed with doNotStore: false."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Serve the moderation queue: the JSON API under /api (OpenAPI at /openapi.json) and the moderator page at /.

    Every /api request needs a token (Authorization: Bearer TOKEN, or X-Token): a
    moderator account's ('classifier queue user add') or the deployment's admin token
    (CLASSIFIER_TOKEN or --token-file). The server refuses to start with neither.
    Several servers may serve one PostgreSQL database. It also answers Perspective's
    API (POST /v1alpha1/comments:analyze and :suggestscore, discovery at
    /$discovery/rest?version=v1alpha1), any of those tokens being the API key (?key=TOKEN).
    An admin token shorter than 16 characters (or of fewer than 6 distinct ones) is
    refused beyond loopback. Exit codes: 2 no token and no account, or a weak token on
    a non-loopback host; 3 model refused; 5 database locked, unreachable or corrupted.
    """
    import os

    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ClassifierError(f"{token_file}: cannot read the token file ({exc})", EXIT_USAGE) from None
    else:
        token = os.environ.get("CLASSIFIER_TOKEN", "").strip()

    import uvicorn

    from classifier.accounts import list_users
    from classifier.moderator import Moderator
    from classifier.store import open_store
    from classifier.web.app import create_app
    from classifier.web.perspective import PerspectiveOptions
    from classifier.web.security import check_token, is_loopback

    store = open_store(db, create=True)  # a locked or corrupted database fails before the model loads
    accounts = any(u["active"] for u in list_users(store))
    store.close()
    if not token and not accounts:
        raise ClassifierError(
            "no token: set CLASSIFIER_TOKEN, pass --token-file, or add an account with 'classifier queue user add' "
            "(refusing to serve without one)",
            EXIT_USAGE,
        )
    warning = check_token(token, host) if token else None  # before the model loads: a refusal is quick
    web = create_app(db, token or None, Moderator.load(model, config=config), PerspectiveOptions(rate_limit, store_analyzed))
    if warning:
        fail(warning)
    if not is_loopback(host):
        fail(f"warning: serving on {host}, beyond this machine: put a TLS proxy in front")
    typer.echo(f"classifier: serving {web.state.store.location} on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    uvicorn.run(web, host=host, port=port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS)


# ---- train and evaluate (classifier/train.py, classifier/metrics.py)


def _pairs(values: Optional[list[str]], option: str) -> list[tuple[str, str]]:
    """KEY=VALUE option values, split; a malformed one is a usage error."""
    pairs = []
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise ClassifierError(f"{option} expects KEY=VALUE, got {value!r}", EXIT_USAGE)
        pairs.append((key, rest))
    return pairs


@app.command(
    "train",
    epilog="Example: classifier train comments.csv more.jsonl --label-column label --source-weight forum=2 "
    "--out models/my-model\n\nRebuild the shipped hostile model exactly: classifier train --preset shipped",
)
def train_command(
    data: Annotated[
        Optional[list[str]],
        typer.Argument(help="Labelled CSV, TSV, JSONL or Parquet files ('-' = CSV on stdin).", show_default=False),
    ] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the comment.")] = "text",
    label_column: Annotated[
        str, typer.Option("--label-column", help="Column holding the label (hostile: 1/0; sentiment: negative/neutral/positive).")
    ] = "label",
    task: Annotated[Task, typer.Option("--task", case_sensitive=False, help="What the model predicts.")] = Task.hostile,
    source_weight: Annotated[
        Optional[list[str]],
        typer.Option("--source-weight", help="SOURCE=W: weight of the rows whose 'source' column (or file name) is SOURCE. Repeatable."),
    ] = None,
    exclude: Annotated[
        Optional[list[str]],
        typer.Option("--exclude", help="COLUMN=VALUE: drop the rows where COLUMN equals VALUE. Repeatable."),
    ] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Model directory to write (model.skops, card.json, CARD.md).")] = None,
    cv: Annotated[int, typer.Option("--cv", min=0, help="Cross-validation folds on the training part (0 = none).")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split, the folds and the model.")] = 0,
    eval_data: Annotated[
        Optional[list[Path]],
        typer.Option("--eval", help="Labelled file to report metrics on in the card (never trained on). Repeatable."),
    ] = None,
    eval_label_column: Annotated[
        Optional[str], typer.Option("--eval-label-column", help="Label column of the --eval files (default: --label-column).")
    ] = None,
    param: Annotated[
        Optional[list[str]],
        typer.Option("--param", help="KEY=VALUE passed to the pipeline builder (value read as JSON if it parses), e.g. C=2."),
    ] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Model name in the card (default: the --out folder name).")] = None,
    model_version: Annotated[str, typer.Option("--model-version", help="Model version in the card.")] = "1.0.0",
    preset: Annotated[
        Optional[str], typer.Option("--preset", help="A recorded recipe: 'shipped' (the hostile model) or 'attributes'; other options are ignored.")
    ] = None,
    data_dir: Annotated[
        Optional[Path], typer.Option("--data-dir", help="Where --preset finds the shared corpora (default: ../shared/data beside the repo).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Train a model, cross-validate it, choose its thresholds and write it with its model card.

    Rows with an empty text or a bad label are reported on stderr (file, row)
    and skipped; duplicates and texts with conflicting labels are dropped. The
    metrics table (held-out part per source, --eval sets) goes to stdout,
    progress to stderr. Exit codes: 1 unreadable data, too few rows (10 of each label)
    or a single label; 2 usage error.
    """
    import json

    from classifier import train as training
    from classifier.metrics import metric_rows

    def progress(message: str) -> None:
        typer.echo(message, err=True)

    if preset is not None:
        card = training.train_preset(preset, data_dir, progress=progress)
    else:
        if not data:
            raise ClassifierError("no training data: give DATA files or --preset", EXIT_USAGE)
        weights = {}
        for key, value in _pairs(source_weight, "--source-weight"):
            try:
                weights[key] = float(value)
            except ValueError:
                raise ClassifierError(f"--source-weight {key}: {value!r} is not a number", EXIT_USAGE) from None
        excluded: dict[str, list[str]] = {}
        for key, value in _pairs(exclude, "--exclude"):
            excluded.setdefault(key, []).append(value)
        params = {}
        for key, value in _pairs(param, "--param"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        card = training.train(
            data, task=task.value, text_column=text_column, label_column=label_column, source_weights=weights,
            exclude=excluded, out=out, cv=cv, seed=seed, params=params, eval_paths=eval_data,
            eval_label_column=eval_label_column, name=name, version=model_version, progress=progress,
            rebuild_command=" ".join(["classifier", "train", *sys.argv[2:]]) if sys.argv[1:2] == ["train"] else "",
        )  # fmt: skip
    metrics = card["metrics"]
    rows: list[dict] = []
    for part in ("heldout", "eval"):
        rows += [{"part": part, **row} for row in metric_rows(metrics.get(part, {}))]
    for attribute, block in metrics.get("heldout_per_attribute", {}).items():
        rows += [{"part": "heldout", "attribute": attribute, **row} for row in metric_rows(block)]
    if "cv" in metrics:
        summary = ", ".join(f"{k} {v['mean']:.3f} ± {v['sd']:.3f}" for k, v in metrics["cv"].items() if isinstance(v, dict))
        progress(f"classifier: cross-validation: {summary}")
    write_records(rows, fmt)


@app.command(
    "evaluate",
    epilog="Example: classifier evaluate data/eval_news_fr.csv --label-column hostile --format table\n\n"
    "Real news comments (UCC, the published French comments, our labels): classifier evaluate --real --format json",
)
def evaluate_command(
    data: Annotated[
        Optional[list[str]],
        typer.Argument(help="Labelled CSV, TSV, JSONL or Parquet files ('-' = CSV on stdin).", show_default=False),
    ] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Model directory (default: the shipped model of --task).")] = None,
    task: Annotated[
        Task, typer.Option("--task", case_sensitive=False, help="Task of the shipped model to use when --model is not given.")
    ] = Task.hostile,
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the comment.")] = "text",
    label_column: Annotated[str, typer.Option("--label-column", help="Column holding the true label.")] = "label",
    real: Annotated[
        bool,
        typer.Option("--real", help="Also judge the hostile model on real news comments: UCC transfer, shares of the "
                     "published French comments held and rejected (dev articles), our labelled dev sample."),
    ] = False,
    data_dir: Annotated[
        Optional[Path], typer.Option("--data-dir", help="Where --real finds the shared corpora (default: ../shared/data beside the repo).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Score labelled files with a model and report its quality.

    Hostile models: ROC AUC, PR AUC, precision/recall/F1 and the confusion
    matrix at the card's thresholds. Sentiment models: macro-F1, accuracy,
    per-class precision/recall/F1 and the confusion matrix. Overall, per file,
    per 'source', 'category' and 'functionality' column when present. --real
    adds the real-comment report (see classifier/judge.py). --format json gives
    everything; table/csv/jsonl one row per group. Exit codes: 1 unreadable
    data; 2 nothing to evaluate; 3 model refused.
    """
    from classifier.train import evaluate_model

    if not data and not real:
        raise ClassifierError("nothing to evaluate: give labelled files or --real", EXIT_USAGE)
    report, rows = evaluate_model(
        data or [], model=model, task=task.value, text_column=text_column, label_column=label_column,
        real_data_dir=(data_dir or True) if real else None, progress=lambda message: typer.echo(message, err=True),
    )  # fmt: skip
    write_records(report if fmt is OutputFormat.json else rows, fmt)


@app.command(
    "calibrate",
    epilog="Example: classifier calibrate --approved published.csv --review-share 0.08 --reject-share 0.01 "
    "--out moderation.toml\n\nThen: classifier score new.csv --config moderation.toml",
)
def calibrate_command(
    approved: Annotated[
        Optional[Path], typer.Option("--approved", help="A file of comments the newsroom approved (CSV, TSV, JSONL, Parquet or anything parse reads).")
    ] = None,
    db: Annotated[Optional[Path], typer.Option("--db", help="A moderation queue: its comments a person approved.")] = None,
    text_column: Annotated[Optional[str], typer.Option("--text-column", help="Column holding the comment (--approved).")] = None,
    reject_share: Annotated[float, typer.Option("--reject-share", min=0.0, max=1.0, help="At most this share of them rejected.")] = 0.01,
    review_share: Annotated[
        float, typer.Option("--review-share", min=0.0, max=1.0, help="At most this share of them held (review or reject, shouting included).")
    ] = 0.08,
    shouting: Annotated[str, typer.Option("--shouting", help="What shouting alone triggers: approve, review or reject.")] = "review",
    model: Annotated[Optional[Path], typer.Option("--model", help="Model directory (default: the shipped hostile model).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="TOML config to write (read by score, serve and queue --config).")] = None,
    fmt: FormatOption = OutputFormat.json,
) -> None:
    """Choose review and reject thresholds from comments a newsroom approved.

    The thresholds hold at most --review-share of the approved comments for
    review and reject at most --reject-share of them, as 'classifier score'
    decides (the shouting rule included). Writes them to --out as the TOML
    config that score, serve and the queue read with --config; prints the
    thresholds and the shares they give. Exit codes: 1 unreadable input;
    2 usage error (no or both sources, shares out of order, nothing approved);
    3 model refused; 5 queue database error.
    """
    from classifier.calibrate import calibrate_source

    if (approved is None) == (db is None):
        raise ClassifierError("give exactly one of --approved FILE or --db QUEUE", EXIT_USAGE)
    result = calibrate_source(
        approved=approved, db=db, text_column=text_column, model=model, reject_share=reject_share,
        review_share=review_share, shouting=shouting, out=out, on_error=fail,
    )  # fmt: skip
    write_records(result if fmt is OutputFormat.json else [{**result["thresholds"], **result["achieved"]}], fmt)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors and documented exit codes."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="classifier", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx else "classifier"
        hint = f" (see '{path} --help')"
        fail(exc.format_message().replace("\n", " ") + hint)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        fail(exc.format_message().replace("\n", " "))
        sys.exit(exc.exit_code)
    except ClassifierError as exc:
        fail(str(exc))
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("CLASSIFIER_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (CLASSIFIER_DEBUG=1 shows the traceback)")
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)
