class SignatureError(Exception):
    """The request is not provably from the provider. The message is safe to return."""
