"""The readers: subscriber records from forms and CSV files (``records``, ``csvtext``: the
encodings spreadsheets export), and sign-up with double opt-in (``signup``: the steps,
``signups``: the use case that records the reader and mails the confirmation)."""
