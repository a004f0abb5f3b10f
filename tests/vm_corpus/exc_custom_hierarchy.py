"""A custom exception hierarchy for an HTTP-ish client: mapping status codes, retries, wrapping and context."""


class ClientError(Exception):
    """Base of everything this client raises."""

    def __init__(self, message, *, status=None):
        super().__init__(message)
        self.status = status


class TransportError(ClientError):
    pass


class HTTPError(ClientError):
    registry = {}

    def __init_subclass__(cls, codes=(), **kwargs):
        super().__init_subclass__(**kwargs)
        for code in codes:
            HTTPError.registry[code] = cls

    @classmethod
    def for_status(cls, status, body):
        kind = cls.registry.get(status) or (ServerError if status >= 500 else cls)
        return kind(f"{status}: {body}", status=status)


class NotFound(HTTPError, codes=(404, 410)):
    pass


class Unauthorized(HTTPError, codes=(401, 403)):
    pass


class ServerError(HTTPError, codes=(500,)):
    retryable = True


RESPONSES = {"/ok": (200, "fine"), "/gone": (410, "gone"), "/secret": (403, "forbidden"), "/boom": (503, "busy"),
             "/teapot": (418, "short and stout")}


def fetch(path, attempt=0):
    if path == "/down":
        raise ConnectionRefusedError(f"connect to {path} refused")
    status, body = RESPONSES.get(path, (404, "no such page"))
    if status >= 400:
        raise HTTPError.for_status(status, body)
    return body


def get(path, retries=2):
    for attempt in range(retries + 1):
        try:
            return fetch(path, attempt)
        except ServerError as error:
            last = error
            continue
        except OSError as error:
            raise TransportError(f"transport failed for {path}") from error
    raise ClientError(f"gave up on {path} after {retries + 1} attempts", status=last.status) from last


for path in ["/ok", "/gone", "/secret", "/missing", "/teapot", "/boom", "/down"]:
    try:
        print(path, "->", get(path))
    except (NotFound, Unauthorized) as error:
        print(path, "->", type(error).__name__, error.status, error)
    except ClientError as error:
        cause = error.__cause__
        print(path, "->", type(error).__name__, error, "| cause:", type(cause).__name__, cause)
print(sorted(HTTPError.registry), [k.__name__ for k in NotFound.__mro__[:4]])
print(issubclass(ServerError, ClientError), ServerError.retryable, getattr(NotFound, "retryable", False))
try:
    raise NotFound("x", status=404)
except HTTPError as error:
    print(repr(error), error.args, error.status)
get("/boom", retries=0)
