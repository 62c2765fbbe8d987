"""SES v2 against moto's real server, and the SigV4 signature on what goes out."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gazette.mail.ses import SesOptions, SesProvider

from .cases import connection
from .conftest import envelope, envelopes

REGION = "eu-west-1"
KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's server on a free loopback port, for the whole module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto(moto_url: str) -> str:
    """moto with no state left by another test."""
    httpx.post(f"{moto_url}/moto-api/reset").raise_for_status()
    return moto_url


def verify_sender(url: str, address: str = "digest@example.org") -> None:
    """Verifies ``address`` as a sending identity, as the SES console would."""
    client = boto3.client(
        "sesv2",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    client.create_email_identity(EmailIdentity=address)


def received(url: str) -> list[dict[str, Any]]:
    """The raw messages moto's SES accepted."""
    data = httpx.get(f"{url}/moto-api/data.json").json()
    messages: list[dict[str, Any]] = data["ses"]["RawMessage"]
    return messages


def ses(url: str, **options: Any) -> SesProvider:
    """An SES provider pointed at ``url``."""
    return SesProvider(SesOptions(KEY_ID, SECRET, REGION, connection(url), **options))


def test_ses_delivers_the_raw_mime_with_its_unsubscribe_headers(moto: str) -> None:
    """SendEmail with Content.Raw: moto keeps the MIME, List-Unsubscribe included."""
    verify_sender(moto)
    results = ses(moto).send([envelope()])
    (result,) = results
    assert result.status == "sent"
    (message,) = received(moto)
    assert message["id"] == result.provider_id
    assert "reader@example.com" in message["destinations"]
    parsed = message_from_bytes(message["raw_data"].encode())
    assert parsed["List-Unsubscribe"] == "<https://example.org/unsubscribe?t=tok1>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == "<issue-7.1@example.org>"


def test_ses_unverified_sender_fails_with_ses_words(moto: str) -> None:
    """No verified identity: MessageRejected, quoted on the failed result."""
    (result,) = ses(moto).send([envelope()])
    assert result.status == "failed"
    assert result.error.startswith("MessageRejected: ")
    assert "digest@example.org" in result.error
    assert received(moto) == []


def test_ses_takes_one_message_a_call(moto: str) -> None:
    """batch_size is 1: SendEmail carries one raw message."""
    provider = ses(moto)
    assert provider.batch_size == 1
    with pytest.raises(ValueError, match="at most 1"):
        provider.send(envelopes(2))


def test_ses_request_is_sigv4_signed_over_what_was_sent(httpserver: HTTPServer) -> None:
    """The signature, recomputed from the bytes and headers the server got, matches."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        request.get_data()
        seen.append(request)
        return Response('{"MessageId": "m-1"}', content_type="application/json")

    httpserver.expect_request("/v2/email/outbound-emails").respond_with_handler(handler)
    provider = ses(httpserver.url_for("/"), session_token="session-1", configuration_set="cs")
    provider.send([envelope()])
    (request,) = seen
    authorization = request.headers["Authorization"]
    date = request.headers["X-Amz-Date"]
    scope = f"{KEY_ID}/{date[:8]}/{REGION}/ses/aws4_request"
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=")
    assert request.headers["X-Amz-Security-Token"] == "session-1"
    assert authorization.rpartition("Signature=")[2] == expected_signature(request)
    assert request.get_json()["ConfigurationSetName"] == "cs"


def expected_signature(request: Request) -> str:
    """SigV4 over the request as received, at the time it claims."""
    signer = SigV4Auth(Credentials(KEY_ID, SECRET, "session-1"), "ses", REGION)
    names = ("Host", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token")
    again = AWSRequest(
        method="POST",
        url=f"http://{request.headers['Host']}{request.path}",
        data=request.get_data(),
        headers={name: request.headers[name] for name in names},
    )
    again.context["timestamp"] = request.headers["X-Amz-Date"]
    canonical = signer.canonical_request(again)
    return str(signer.signature(signer.string_to_sign(again, canonical), again))


def test_an_unsigned_call_is_not_taken_as_ses(moto: str) -> None:
    """The same body without SigV4 reaches no SES at moto: the signature is what routes it."""
    verify_sender(moto)
    body = ses(moto)._request(envelope())
    response = httpx.post(f"{moto}/v2/email/outbound-emails", json=body)
    assert response.status_code != 200
    assert received(moto) == []
