"""Request authentication: AWS SigV4 through botocore, or an API Gateway API key."""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit

logger = logging.getLogger("model_performance")

# API Gateway's default endpoints name their region: https://abc123.execute-api.eu-west-1.amazonaws.com/Prod
_EXECUTE_API_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def region_from_endpoint(endpoint: str) -> Optional[str]:
    """Return the AWS region named in an API Gateway endpoint's host, or None for other hosts."""
    host = urlsplit(endpoint).hostname or ""
    match = _EXECUTE_API_HOST.search(host)
    return match.group(1) if match else None


class Authenticator:
    """Adds authentication headers to each request.

    With `sign=None` requests are signed with SigV4 (service `execute-api`) when botocore is
    importable and finds credentials. `sign=True` requires signing and raises ValueError when it
    is impossible, and `sign=False` never signs. An `api_key` is sent as `x-api-key` either way.
    """

    def __init__(
        self,
        endpoint: str,
        api_key: Optional[str] = None,
        region: Optional[str] = None,
        sign: Optional[bool] = None,
    ) -> None:
        self.api_key = api_key
        self.region = region or region_from_endpoint(endpoint) or _region_from_environment()
        self._credentials: Any = None
        self._signer_class: Any = None
        self._request_class: Any = None
        if sign is False:
            return

        problem = self._load_signer()
        if problem is None and self.region is None:
            problem = "no AWS region: pass region=..., set AWS_REGION, or use an execute-api endpoint"
        if problem is None:
            return
        self._credentials = None
        if sign:
            raise ValueError(f"cannot sign requests with SigV4: {problem}")
        logger.debug("requests are not signed: %s", problem)

    @property
    def signs(self) -> bool:
        """Whether requests are signed with SigV4."""
        return self._credentials is not None

    def _load_signer(self) -> Optional[str]:
        """Import botocore and find credentials, returning why signing is impossible, or None."""
        try:
            import botocore.session
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
        except ImportError:
            return "botocore is not installed (pip install 'model-performance[aws]')"

        session = botocore.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            return "botocore found no AWS credentials"
        if self.region is None:
            self.region = session.get_config_variable("region")
        self._credentials = credentials
        self._signer_class = SigV4Auth
        self._request_class = AWSRequest
        return None

    def headers(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Dict[str, str]:
        """Return `headers` plus the API key and SigV4 headers that apply to this request."""
        result = dict(headers)
        if self.api_key:
            result["x-api-key"] = self.api_key
        if self._credentials is None:
            return result

        # Frozen per request, so refreshed credentials (an assumed role, SSO) are picked up.
        frozen = self._credentials.get_frozen_credentials()
        request = self._request_class(method=method, url=url, data=body, headers=result)
        self._signer_class(frozen, "execute-api", self.region).add_auth(request)
        return dict(request.headers.items())


def _region_from_environment() -> Optional[str]:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
