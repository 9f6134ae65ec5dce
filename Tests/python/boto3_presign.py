#!/usr/bin/env python3
"""boto3's pre-signed S3 URLs for given inputs and a frozen clock: the reference SigV4Tests compares with.

Reads a JSON list of cases on stdin ({method: get_object|put_object|head_object, endpoint, region, bucket, key,
expires, time (Unix seconds), accessKey, secretKey, sessionToken?}) and prints the JSON list of URLs, path-style.
"""
import datetime
import json
import sys
import unittest.mock

import boto3
from botocore.config import Config


def main() -> int:
    urls = []
    for case in json.load(sys.stdin):
        client = boto3.client(
            "s3", endpoint_url=case["endpoint"], region_name=case["region"], aws_access_key_id=case["accessKey"],
            aws_secret_access_key=case["secretKey"], aws_session_token=case.get("sessionToken"),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
        moment = datetime.datetime.fromtimestamp(case["time"], tz=datetime.timezone.utc).replace(tzinfo=None)
        with unittest.mock.patch("botocore.auth.get_current_datetime", return_value=moment):
            urls.append(client.generate_presigned_url(
                case["method"], Params={"Bucket": case["bucket"], "Key": case["key"]}, ExpiresIn=case["expires"]))
    json.dump(urls, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
