def test_ping_over_redis_py(r):
    assert r.ping() is True


def test_set_get(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"


def test_unknown_command_and_arity_match_redis(diff):
    diff.check("NOSUCHCOMMAND", "a", "b")
    diff.check("GET")
    diff.check("ping", "hello")
