"""A local S3 server for tests (moto's server mode) and the settings that point the portal at it."""

from __future__ import annotations

import contextlib
import socket

import boto3

BUCKET = "portal-test"
KEY = "testing"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto_server():
    """Yields the endpoint URL of a fresh S3 server in a thread of this process."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def storages_for(endpoint: str, base: dict) -> dict:
    options = {"bucket_name": BUCKET, "endpoint_url": endpoint, "region_name": "us-east-1",
               "access_key": KEY, "secret_key": KEY, "addressing_style": "path", "signature_version": "s3v4",
               "default_acl": None, "querystring_auth": True, "querystring_expire": 300, "file_overwrite": False}
    return {**base,
            "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**options, "location": "media"}},
            "private": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**options, "location": "private"}}}


def client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY,
                        aws_secret_access_key=KEY)


def keys(endpoint: str) -> dict[str, bytes]:
    s3 = client(endpoint)
    out = {}
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        out[item["Key"]] = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    return out
