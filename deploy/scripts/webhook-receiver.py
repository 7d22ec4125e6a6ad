#!/usr/bin/env python3
"""A demo webhook receiver: prints each Pingan warning and notice it gets and checks its signature.

Serves requests concurrently with a normal listen backlog.

    WEBHOOK_SECRET=... python3 deploy/scripts/webhook-receiver.py 8090

Verifies as the Standard Webhooks specification says: `webhook-signature` holds one or more
`v1,<base64 HMAC-SHA256 of "webhook-id.webhook-timestamp.body">` (two during a secret's
rotation), and a delivery more than five minutes old or from the future is refused, so a
captured one cannot be replayed later. WEBHOOK_SECRET is the subscription's secret as given
to Subscribe: its `whsec_` form (the key is the base64 after the prefix) or plain text (the
key is its UTF-8 bytes). Answers 200 to valid deliveries, 401 otherwise. A retry carries the
same `webhook-id`, so a receiver acts on each id once, as this one does.

It also stands in for the SMS gateway residents' texts go to (`RESIDENT_SMS_URL` = `/sms`):
it prints each text, one-time codes included, as a phone would show it. A demo only.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXT = os.environ["WEBHOOK_SECRET"]
KEY = base64.b64decode(TEXT[len("whsec_"):]) if TEXT.startswith("whsec_") else TEXT.encode()
TOLERANCE = 5 * 60
seen = set()
lock = threading.Lock()


def verified(headers, body: bytes) -> bool:
    delivery, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not delivery or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
        return False
    mac = hmac.new(KEY, f"{delivery}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    return any(part.startswith("v1,") and hmac.compare_digest(part[3:], expected)
               for part in headers.get("webhook-signature", "").split())


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/sms":
            text = json.loads(body)
            print(f"SMS to {text.get('phone')}: {text.get('text')}", flush=True)
            self.send_response(200)
            self.end_headers()
            return
        if not verified(self.headers, body):
            self.send_response(401)
            self.end_headers()
            return
        delivery = self.headers.get("webhook-id", "")
        with lock:
            first = delivery not in seen
            seen.add(delivery)
        if first:
            event = json.loads(body)
            if event.get("type") == "warning.raised":
                print(f"WARNING case={event['case_id']} centre={event['centre_code']} "
                      f"village={event['village_code']} score={event['score']} "
                      f"reasons={'; '.join(event['reasons'])} (signature ok)", flush=True)
            else:
                print(f"{event.get('type', '?').upper()} case={event.get('case_id')} centre={event.get('centre_code')} "
                      f"{event.get('summary', '')} (signature ok)", flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # Deliveries arrive together; a backlog of 5 refused them and TCP retried each after a second.
    request_queue_size = 128
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
