"""SMS providers' own APIs, spoken directly (no vendor SDK): signing, the call, its answer.
Each fails alike, so the notices treat them alike."""


class SmsRefused(Exception):
    """The provider answered, and said no: its code (e.g. `isv.BUSINESS_LIMIT_CONTROL`) is the
    message, which carries no phone number. The outbox retries, then lists it as failed."""
