"""The one exception type handlers raise; protocols.py renders it per service."""


class AwsError(Exception):
    def __init__(self, code, message, status=400, sender=True, kind=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.kind = kind  # 'validation', 'missing' or None
        self.headers = {}

    @classmethod
    def validation(cls, message, missing=False):
        return cls('ValidationError', message, 400, kind='missing' if missing else 'validation')

    def __repr__(self):
        return 'AwsError(%s, %s, %s)' % (self.code, self.status, self.message)
