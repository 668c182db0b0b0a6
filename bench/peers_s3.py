#!/usr/bin/env python3
"""bench/peers.sh's S3 helper (botocore as vendored by the aws CLI in bench/.tools/venv).

  peers_s3.py ENDPOINT PROFILE fill-dir DIR N SIZE            write N files of SIZE random bytes
  peers_s3.py ENDPOINT PROFILE empty BUCKET PREFIX            delete everything under PREFIX
  peers_s3.py ENDPOINT PROFILE snapshot BUCKET PREFIX FILE    key, size, ETag, LastModified as JSON
  peers_s3.py ENDPOINT PROFILE check SRC_PROFILE SRC_BUCKET SRC_PREFIX DST_BUCKET DST_PREFIX SAMPLE
      every source key is at the destination with the same size (and the same ETag where both
      are single-part); SAMPLE random objects (all if fewer) are downloaded from both sides and
      their MD5s compared. Prints one JSON line; exits 1 on any difference.

PROFILE names a profile in AWS_SHARED_CREDENTIALS_FILE (the script passes the root keys).
"""
import concurrent.futures
import hashlib
import json
import os
import random
import sys

import awscli  # noqa: F401  (awscli >= 1.44 ships botocore inside; importing it makes `botocore` importable)
import botocore.config
import botocore.session


def client(endpoint, profile):
    s = botocore.session.Session(profile=profile)
    return s.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=botocore.config.Config(
            max_pool_connections=32, retries={"max_attempts": 3}, s3={"addressing_style": "path"}
        ),
    )


def listing(c, bucket, prefix):
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = (o["Size"], o["ETag"], o["LastModified"].isoformat())
    return out


def md5_of(c, bucket, key):
    h = hashlib.md5()
    body = c.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def main():
    endpoint, profile, cmd, *args = sys.argv[1:]
    if cmd == "fill-dir":
        d, n, size = args[0], int(args[1]), int(args[2])
        os.makedirs(d, exist_ok=True)
        chunk = 1 << 20
        for i in range(n):
            with open(os.path.join(d, f"obj{i:07d}"), "wb") as f:
                left = size
                while left:
                    k = min(left, chunk)
                    f.write(os.urandom(k))
                    left -= k
        return
    c = client(endpoint, profile)
    if cmd == "empty":
        bucket, prefix = args
        keys = list(listing(c, bucket, prefix))
        for i in range(0, len(keys), 1000):
            batch = [{"Key": prefix + k} for k in keys[i : i + 1000]]
            r = c.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if r.get("Errors"):
                sys.exit(f"delete failed: {r['Errors'][:3]}")
        print(json.dumps({"deleted": len(keys)}))
    elif cmd == "snapshot":
        bucket, prefix, path = args
        with open(path, "w") as f:
            json.dump(listing(c, bucket, prefix), f, sort_keys=True)
    elif cmd == "check":
        src_profile, sb, sp, db, dp, sample = args
        s = client(endpoint, src_profile)
        src, dst = listing(s, sb, sp), listing(c, db, dp)
        missing = sorted(set(src) - set(dst))
        extra = sorted(set(dst) - set(src))
        wrong_size = sorted(k for k in src if k in dst and src[k][0] != dst[k][0])
        wrong_etag = sorted(
            k
            for k in src
            if k in dst and "-" not in src[k][1] and "-" not in dst[k][1] and src[k][1] != dst[k][1]
        )
        keys = sorted(set(src) & set(dst))
        picked = random.sample(keys, min(int(sample), len(keys)))
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            pairs = list(ex.map(lambda k: (k, md5_of(s, sb, sp + k), md5_of(c, db, dp + k)), picked))
        wrong_body = [k for k, a, b in pairs if a != b]
        r = {
            "source_objects": len(src),
            "source_bytes": sum(v[0] for v in src.values()),
            "dest_objects": len(dst),
            "dest_bytes": sum(v[0] for v in dst.values()),
            "missing": len(missing),
            "extra": len(extra),
            "wrong_size": len(wrong_size),
            "wrong_etag": len(wrong_etag),
            "bodies_compared": len(pairs),
            "wrong_body": len(wrong_body),
            "first_bad": (missing + wrong_size + wrong_etag + wrong_body + extra)[:3],
        }
        print(json.dumps(r))
        ok = not (missing or extra or wrong_size or wrong_etag or wrong_body) and len(src) > 0
        sys.exit(0 if ok else 1)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
