"""SigV4 signing speed of awscrt and botocore on the benchmark request.

The request of shared/research/limits.md section 3 (the same one as
sigv4_bench.c): POST .../topics/devices/dev-0001/telemetry?qos=1, service
iotdata, region eu-west-1, static credentials, the same 300-byte body,
signed headers content-type;host;x-amz-date.

  python3 sigv4_py.py awscrt|awscrt-reuse|botocore check   signature at 2024-01-15T09:30:00Z
  python3 sigv4_py.py awscrt|awscrt-reuse|botocore N       time N signatures (200 warm-up)
Timing lines: "MODE N SECONDS SIGS_PER_S". Debian python3-awscrt and python3-botocore.
"""
import datetime
import io
import re
import sys
import time
import types

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HOST = "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"
PATH = "/topics/devices/dev-0001/telemetry?qos=1"
REGION = "eu-west-1"
SERVICE = "iotdata"
FIXED = datetime.datetime(2024, 1, 15, 9, 30, 0, tzinfo=datetime.timezone.utc)


def body():
    head = '{"deviceId":"dev-0001","ts":1705311000,"temp":21.5,"hum":40.25,"pad":"'
    tail = '"}'
    return (head + "x" * (300 - len(head) - len(tail)) + tail).encode()


BODY = body()


def awscrt_signer(reuse, fixed):
    from awscrt import auth, http
    provider = auth.AwsCredentialsProvider.new_static(AKID, SECRET)

    def config():
        kw = {"date": FIXED} if fixed else {}
        return auth.AwsSigningConfig(algorithm=auth.AwsSigningAlgorithm.V4,
                                     signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
                                     credentials_provider=provider, region=REGION, service=SERVICE, **kw)
    shared = config()

    def sign():
        req = http.HttpRequest("POST", PATH, http.HttpHeaders([("Host", HOST), ("Content-Type", "application/json")]),
                               io.BytesIO(BODY))
        signed = auth.aws_sign_request(req, shared if reuse else config()).result()
        return signed.headers.get("Authorization")
    return sign


def botocore_signer(fixed):
    import botocore.auth
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    if fixed:
        class Fixed(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return cls(2024, 1, 15, 9, 30, 0)
        botocore.auth.datetime = types.SimpleNamespace(datetime=Fixed, timedelta=datetime.timedelta)
    creds = Credentials(AKID, SECRET)

    def sign():
        req = AWSRequest(method="POST", url="https://" + HOST + PATH, data=BODY,
                         headers={"Content-Type": "application/json"})
        SigV4Auth(creds, SERVICE, REGION).add_auth(req)
        return req.headers["Authorization"]
    return sign


def make(mode, fixed):
    if mode == "awscrt":
        return awscrt_signer(False, fixed)
    if mode == "awscrt-reuse":
        return awscrt_signer(True, fixed)
    if mode == "botocore":
        return botocore_signer(fixed)
    raise SystemExit(f"unknown mode {mode}")


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    if arg == "check":
        auth_value = make(mode, True)()
        print(re.search(r"Signature=([0-9a-f]{64})", auth_value).group(1))
        return
    n = int(arg)
    sign = make(mode, False)
    for _ in range(200):
        sign()
    t0 = time.perf_counter()
    for _ in range(n):
        sign()
    dt = time.perf_counter() - t0
    print(f"{mode} {n} {dt:.4f} {n / dt:.0f}")


if __name__ == "__main__":
    main()
