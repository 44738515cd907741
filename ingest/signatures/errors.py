class SignatureError(Exception):
    """The request is not provably from the provider. The message is safe to return."""


class StaleTimestampError(SignatureError):
    """Correctly signed, but timestamped outside the accepted window: a replay, or a
    delivery delayed past the tolerance. Counted apart from forged or broken signatures."""
