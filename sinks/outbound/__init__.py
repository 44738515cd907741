"""What the bot sends out: replies and hand-offs to Chatwoot, WhatsApp Cloud API and 360dialog.

``requests`` builds the HTTP requests of one action and ``policy`` judges each answer (both
pure); ``sender`` performs them in order, with retries, against a ``deliveries`` log so that
a redelivered action skips the steps already done.
"""
