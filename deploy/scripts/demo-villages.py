#!/usr/bin/env python3
"""Generates demo villages under every real township of Changde, labelled as generated.

The shipped data has no village level (its real codes were not available); demos and
benchmarks need one. Codes follow the statistical rules: 001-199 communities (社区),
200-399 villages (村). Every name ends in （生成） so nobody mistakes them for real places.

    python3 deploy/scripts/demo-villages.py [PER_TOWNSHIP] < changde-divisions.csv > villages.csv
"""
import csv
import sys

per_township = int(sys.argv[1]) if len(sys.argv) > 1 else 2
rows = csv.DictReader(sys.stdin)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["code", "name", "level", "parent_code"])
for row in rows:
    if row["level"] != "township":
        continue
    prefix = row["code"][:9]
    stem = row["name"].removesuffix("街道").removesuffix("镇").removesuffix("乡")
    for index in range(per_township):
        if index == 0:
            out.writerow([f"{prefix}001", f"{stem}社区（生成）", "village", row["code"]])
        else:
            out.writerow([f"{prefix}{200 + index:03d}", f"{stem}{index}村（生成）", "village", row["code"]])
