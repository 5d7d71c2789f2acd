"""The moderation queue's HTTP API and moderator page (see :func:`classifier.web.app.create_app`)."""
