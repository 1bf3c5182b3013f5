"""The Python SDK of the OG Records Public API.

from og_records import OGRecords
client = OGRecords(api_key="og_test_…")
for person in client.persons.list():
    print(person.id, person.name)
"""

from og_records import models
from og_records._base import APIResponse
from og_records._client import DEFAULT_BASE_URL, AsyncOGRecords, OGRecords, environment_of
from og_records._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    InternalServerError,
    NotFoundError,
    OGRecordsError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
    ValidationError,
    WebhookVerificationError,
)
from og_records._generated.types import UNSET, Unset
from og_records._version import __version__
from og_records.oauth import AuthorizationRequest, OAuthAuth, OAuthClient, Token
from og_records.pagination import AsyncPage, AsyncPaginator, SyncPage
from og_records.uploads import File, file_from

__all__ = [
    "DEFAULT_BASE_URL",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncOGRecords",
    "AsyncPage",
    "AsyncPaginator",
    "AuthenticationError",
    "AuthorizationRequest",
    "BadRequestError",
    "ConflictError",
    "FieldError",
    "File",
    "InternalServerError",
    "NotFoundError",
    "OAuthAuth",
    "OAuthClient",
    "OGRecords",
    "OGRecordsError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "SyncPage",
    "Token",
    "UnprocessableEntityError",
    "Unset",
    "ValidationError",
    "WebhookVerificationError",
    "__version__",
    "environment_of",
    "file_from",
    "models",
]
