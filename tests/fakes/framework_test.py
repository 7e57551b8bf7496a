"""Self-test of framework.py: a small demo platform built from its parts
(operations, OAuth with rotating refresh tokens, a login, every paging style,
a rate-limit window, faults) exercised over real loopback HTTP.

Run: python3 tests/fakes/framework_test.py (ctest runs it as fakes_framework)."""

import base64
import http.client
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import framework  # noqa: E402
from framework import (BasicAuth, LoginServer, OAuthServer, Operation, Platform, RateLimitWindow,  # noqa: E402
                       json_reply, paginate)


class Demo(Platform):
    name = "demo"
    operations = [
        Operation("POST", "/oauth/token", "token"),
        Operation("POST", "/login", "login"),
        Operation("GET", "/items", "list"),
        Operation("POST", "/items", "create"),
        Operation("GET", "/basic/items", "basic_list"),
        Operation("GET", "/session/items", "session_list"),
        Operation("GET", "/items/{id}", "get"),
    ]

    def reset(self):
        self.oauth = OAuthServer(lifetime_s=3600)
        self.login_server = LoginServer({"ann": "pw"})
        self.basic = BasicAuth({"API_KEY": "k"})
        self.limit = None
        self.items = [{"id": str(i)} for i in range(7)]
        self.style = "offset"

    def __init__(self):
        self.reset()

    def route(self, request):
        op = self.operation_of(request)
        name, params = op if op else (None, {})
        if name == "token":
            return self.oauth.token_endpoint(request)
        if name == "login":
            return self.login_server.login(request)
        auth = {"basic_list": self.basic, "session_list": self.login_server}.get(name, self.oauth)
        denied = auth.check(request)
        if denied is not None:
            return denied
        headers = []
        if self.limit is not None:
            headers, limited = self.limit.take()
            if limited is not None:
                return limited
        if name in ("list", "basic_list", "session_list"):
            page, following = paginate(self.items, request, self.style, default_limit=3)
            return json_reply({"items": page, "next": following}, headers=headers)
        if name == "create":
            self.items.append({"id": str(len(self.items))})
            return json_reply(self.items[-1], 201)
        if name == "get":
            return json_reply({"id": params["id"]})
        return json_reply({"message": "Not Found"}, 404)


class FrameworkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.platform = Demo()
        cls.server = framework.FakeServer(cls.platform)
        cls.server.start()

    def setUp(self):
        self.server.reset()
        self.access, self.refresh = self.platform.oauth.grant()

    def call(self, method, path, body=b"", headers=None, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        out = (r.status, dict(r.getheaders()), r.read())
        c.close()
        return out

    def json(self, method, path, **kw):
        status, headers, body = self.call(method, path, **kw)
        return status, headers, json.loads(body or b"null")

    def test_undeclared_routes_are_violations(self):
        self.call("GET", "/items", token=self.access)
        self.call("DELETE", "/items/3", token=self.access)
        self.assertEqual(self.server.violations, [{"method": "DELETE", "path": "/items/3"}])
        self.assertEqual([e["operation"] for e in self.server.log], ["list", None])

    def test_oauth_refresh_tokens_rotate_and_access_tokens_expire(self):
        self.assertEqual(self.call("GET", "/items", token=self.access)[0], 200)
        self.platform.oauth.expire_all()
        self.assertEqual(self.call("GET", "/items", token=self.access)[0], 401)
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": self.refresh,
                                       "client_id": "fitbridge-test", "client_secret": "test-client-secret"})
        status, _, fresh = self.json("POST", "/oauth/token", body=form.encode())
        self.assertEqual(status, 200)
        self.assertNotEqual(fresh["refresh_token"], self.refresh)
        self.assertEqual(self.call("GET", "/items", token=fresh["access_token"])[0], 200)
        # The old refresh token is dead after one use.
        self.assertEqual(self.call("POST", "/oauth/token", body=form.encode())[0], 400)

    def test_login_sessions_and_basic_auth(self):
        status, _, body = self.json("POST", "/login", body=json.dumps({"username": "ann", "password": "pw"}).encode())
        self.assertEqual(status, 200)
        self.assertEqual(self.call("GET", "/session/items", token=body["token"])[0], 200)
        self.platform.login_server.expire_all()
        self.assertEqual(self.call("GET", "/session/items", token=body["token"])[0], 401)
        self.assertEqual(self.call("POST", "/login", body=b'{"username": "ann", "password": "no"}')[0], 401)
        basic = "Basic " + base64.b64encode(b"API_KEY:k").decode()
        self.assertEqual(self.call("GET", "/basic/items", headers={"Authorization": basic})[0], 200)
        self.assertEqual(self.call("GET", "/basic/items")[0], 401)

    def walk(self, style, first_query):
        self.platform.style = style
        ids, path = [], "/items?" + first_query
        for _ in range(10):
            _, _, body = self.json("GET", path, token=self.access)
            ids += [i["id"] for i in body["items"]]
            following = body["next"]
            if style == "offset" and len(body["items"]) == 3:
                following = "/items?offset=%d&limit=3" % len(ids)
            elif style in ("page0", "page1") and len(body["items"]) == 3:
                page = int(urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["page"][0]) + 1
                following = "/items?page=%d&per_page=3" % page
            elif style == "cursor" and following:
                following = "/items?cursor=%s&limit=3" % following
            if not following:
                return ids
            path = following
        raise AssertionError("paging did not end")

    def test_every_paging_style_lists_everything_once(self):
        everything = [str(i) for i in range(7)]
        self.assertEqual(self.walk("offset", "offset=0&limit=3"), everything)
        self.assertEqual(self.walk("page0", "page=0&per_page=3"), everything)
        self.assertEqual(self.walk("page1", "page=1&per_page=3"), everything)
        self.assertEqual(self.walk("next", "limit=3"), everything)
        self.assertEqual(self.walk("cursor", "limit=3"), everything)

    def test_rate_limit_headers_and_429(self):
        self.platform.limit = RateLimitWindow(2, 900)
        status, headers, _ = self.call("GET", "/items", token=self.access)
        self.assertEqual((status, headers["X-RateLimit-Usage"]), (200, "1"))
        self.call("GET", "/items", token=self.access)
        status, headers, _ = self.call("GET", "/items", token=self.access)
        self.assertEqual(status, 429)
        self.assertTrue(0 < int(headers["Retry-After"]) <= 900)
        self.platform.limit = RateLimitWindow(0, 60, retry_after=False)
        status, headers, _ = self.call("GET", "/items", token=self.access)
        self.assertEqual(status, 429)
        self.assertNotIn("Retry-After", headers)

    def test_a_lost_response_is_processed_but_never_answered(self):
        self.server.faults.append(framework.Fault({"path": "/items", "method": "POST", "lost": True}))
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.call("POST", "/items", token=self.access)
        self.assertEqual(len(self.platform.items), 8)
        self.assertEqual(self.server.log[-1]["status"], 201)
        self.assertTrue(self.server.log[-1]["lost"])


if __name__ == "__main__":
    unittest.main()
