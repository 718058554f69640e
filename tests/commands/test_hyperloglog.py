"""HyperLogLog commands, differential against real Redis 7.0: same replies, same estimates and the
same bytes in the key (GET) after every kind of update."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.commands.test_bitmaps import collect_events
from tests.resp_raw import encode_command
from tests.unit.test_hll import element_for

HEADER = b"HYLL"


def dirty(conn) -> int:
    info = conn.call("INFO", "persistence")
    for line in info.split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def check_dirty(diff, *cmd) -> bytes:
    before = dirty(diff.ours), dirty(diff.theirs)
    reply = diff.check(*cmd)
    after = dirty(diff.ours), dirty(diff.theirs)
    assert after[0] - before[0] == after[1] - before[1], f"{cmd!r}: dirty {after} - {before}"
    return reply


def pipeline(conn, commands: list[tuple]) -> list[bytes]:
    conn.send_raw(b"".join(encode_command(command) for command in commands))
    return [conn.read_reply() for _ in commands]


def both_pipeline(diff, commands: list[tuple]) -> None:
    ours = pipeline(diff.ours, commands)
    theirs = pipeline(diff.theirs, commands)
    assert ours == theirs


def set_both(diff, key, value: bytes) -> None:
    diff.ours.call("SET", key, value)
    diff.theirs.call("SET", key, value)


@pytest.fixture
def sparse_limit(diff):
    """Set hll-sparse-max-bytes on both servers; restores the default afterwards."""

    def apply(value: int) -> None:
        diff.check("CONFIG", "SET", "hll-sparse-max-bytes", str(value))

    yield apply
    apply(3000)


# -- PFADD: bytes, encoding and promotion ------------------------------------------------------


def test_pfadd_creates_redis_bytes(diff):
    diff.run(
        """
        PFADD h
        GET h
        OBJECT ENCODING h
        PFADD h a b c
        GET h
        PFADD h a
        PFADD h2 a b c
        GET h2
        PFDEBUG ENCODING h
        PFDEBUG DECODE h
        """
    )


def test_pfadd_one_by_one_matches_through_promotion(diff):
    rng = random.Random(11)
    promoted_at = None
    for n in range(3000):
        element = "e:%d" % rng.getrandbits(40)
        diff.check("PFADD", "h", element)
        if n % 50 == 0 or promoted_at is None:
            encoding = diff.check("PFDEBUG", "ENCODING", "h")
            if encoding == b"+dense\r\n" and promoted_at is None:
                promoted_at = n
                diff.check("GET", "h")
        if n % 199 == 0:
            diff.check("GET", "h")
            diff.check("PFCOUNT", "h")
            diff.check("GET", "h")
    assert promoted_at is not None
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")


@pytest.mark.parametrize("limit", [0, 40, 120, 700])
def test_promotion_point_follows_hll_sparse_max_bytes(diff, sparse_limit, limit):
    sparse_limit(limit)
    rng = random.Random(limit)
    for n in range(400):
        diff.check("PFADD", "h", "x%d" % rng.getrandbits(32), "y%d" % n)
        diff.check("PFDEBUG", "ENCODING", "h")
        diff.check("GET", "h")


def test_register_above_32_forces_dense(diff):
    diff.check("PFADD", "h", element_for(77, 5), element_for(78, 32))
    diff.check("PFDEBUG", "ENCODING", "h")
    diff.check("GET", "h")
    diff.check("PFADD", "h", element_for(100, 33))
    diff.check("PFDEBUG", "ENCODING", "h")
    diff.check("GET", "h")
    diff.check("PFADD", "h", element_for(16383, 51), element_for(0, 50), element_for(16382, 40))
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")
    diff.check("PFDEBUG", "GETREG", "h")


def test_sparse_opcode_splits_and_merges(diff):
    # Neighbouring registers exercise VAL splitting and the merge of equal adjacent VALs.
    elements = [element_for(index, run, salt)
                for salt, (index, run) in enumerate(
                    [(10, 2), (12, 2), (11, 2), (13, 2), (14, 3), (9, 2), (200, 1), (65, 4),
                     (130, 4), (66, 4), (64, 4), (11, 3), (12, 1), (16383, 2), (0, 7), (1, 7)])]
    for element in elements:
        diff.check("PFADD", "h", element)
        diff.check("PFDEBUG", "DECODE", "h")
        diff.check("GET", "h")


# -- PFCOUNT -----------------------------------------------------------------------------------


def test_pfcount_writes_the_cache_back(diff):
    diff.check("PFADD", "h", *["m%d" % n for n in range(100)])
    diff.check("GET", "h")
    check_dirty(diff, "PFCOUNT", "h")
    diff.check("GET", "h")
    check_dirty(diff, "PFCOUNT", "h")
    check_dirty(diff, "PFADD", "h", "m1")
    diff.check("GET", "h")
    check_dirty(diff, "PFADD", "h", "new-one", "m2")
    diff.check("GET", "h")
    check_dirty(diff, "PFCOUNT", "h")
    diff.check("GET", "h")


def test_pfcount_of_a_copied_string_unshares_it(diff):
    diff.check("PFADD", "h", "a", "b")
    raw = diff.ours.call("GET", "h")
    payload = raw.split(b"\r\n", 1)[1][:-2]
    set_both(diff, "copy", payload)
    diff.check("OBJECT", "ENCODING", "copy")
    diff.check("PFCOUNT", "copy")
    diff.check("OBJECT", "ENCODING", "copy")
    diff.check("GET", "copy")


def test_pfcount_several_keys_is_the_union(diff):
    diff.check("PFADD", "a", *["a%d" % n for n in range(500)])
    diff.check("PFADD", "b", *["b%d" % n for n in range(5000)])
    diff.check("PFADD", "c", *["a%d" % n for n in range(250, 750)])
    before = [diff.check("GET", key) for key in ("a", "b", "c")]
    diff.check("PFCOUNT", "a", "b", "c")
    diff.check("PFCOUNT", "a", "c", "missing")
    diff.check("PFCOUNT", "missing", "missing2")
    diff.check("PFCOUNT", "missing")
    diff.check("PFCOUNT", "a", "a")
    assert [diff.check("GET", key) for key in ("a", "b", "c")] == before
    check_dirty(diff, "PFCOUNT", "a", "b")


def test_pfcount_100k_elements_matches_redis(diff):
    rng = random.Random(2024)
    elements = [b"%d" % rng.getrandbits(64) for _ in range(100_000)]
    batches = [("PFADD", "big", *elements[n : n + 1000]) for n in range(0, len(elements), 1000)]
    both_pipeline(diff, batches)
    diff.check("PFCOUNT", "big")
    diff.check("GET", "big")
    both_pipeline(diff, [("PFADD", "one", element) for element in elements[:20_000]])
    diff.check("GET", "one")
    diff.check("PFCOUNT", "one", "big")
    diff.check("PFCOUNT", "one")


# -- PFMERGE -----------------------------------------------------------------------------------


def test_pfmerge_sparse_sources_into_new_key(diff):
    diff.check("PFADD", "a", *["a%d" % n for n in range(40)])
    diff.check("PFADD", "b", *["b%d" % n for n in range(60)])
    check_dirty(diff, "PFMERGE", "d", "a", "b", "missing")
    diff.check("GET", "d")
    diff.check("PFDEBUG", "ENCODING", "d")
    diff.check("PFCOUNT", "d")
    check_dirty(diff, "PFMERGE", "d", "a")
    diff.check("GET", "d")
    check_dirty(diff, "PFMERGE", "e")
    diff.check("GET", "e")


def test_pfmerge_sparse_union_promotes_during_the_merge(diff, sparse_limit):
    sparse_limit(300)
    diff.check("PFADD", "a", *["a%d" % n for n in range(90)])
    diff.check("PFADD", "b", *["b%d" % n for n in range(90)])
    diff.check("PFDEBUG", "ENCODING", "a")
    diff.check("PFDEBUG", "ENCODING", "b")
    diff.check("PFMERGE", "a", "b")
    diff.check("PFDEBUG", "ENCODING", "a")
    diff.check("GET", "a")


def test_pfmerge_into_existing_sparse_target(diff):
    diff.check("PFADD", "d", *["d%d" % n for n in range(30)])
    diff.check("PFADD", "a", *["a%d" % n for n in range(30)])
    diff.check("PFCOUNT", "d")
    diff.check("PFMERGE", "d", "a")
    diff.check("GET", "d")
    diff.check("PFMERGE", "d", "a", "d")
    diff.check("GET", "d")


def test_pfmerge_with_dense_source_makes_dense_target(diff):
    diff.check("PFADD", "big", *["x%d" % n for n in range(4000)])
    diff.check("PFADD", "small", *["s%d" % n for n in range(20)])
    diff.check("PFDEBUG", "ENCODING", "big")
    diff.check("PFMERGE", "small", "big")
    diff.check("PFDEBUG", "ENCODING", "small")
    diff.check("GET", "small")
    diff.check("PFMERGE", "new", "small", "big")
    diff.check("GET", "new")
    diff.check("PFCOUNT", "big")
    diff.check("PFMERGE", "big", "small")
    diff.check("GET", "big")


# -- errors and corrupted values ---------------------------------------------------------------


def test_wrong_types_and_non_hll_strings(diff):
    diff.run(
        """
        RPUSH l a
        SET s hello
        SET n 12345
        PFADD l a
        PFADD s a
        PFADD n a
        PFCOUNT l
        PFCOUNT s
        PFCOUNT missing s
        PFCOUNT l s
        PFMERGE d s
        PFMERGE l
        PFMERGE s
        PFDEBUG ENCODING s
        PFDEBUG ENCODING l
        PFDEBUG ENCODING missing
        PFDEBUG FOO missing
        PFADD
        PFCOUNT
        PFMERGE
        PFDEBUG GETREG
        """
    )
    header = HEADER + b"\x01\x00\x00\x00" + bytes(7) + b"\x80"
    for value in (
        header[:15],  # too short
        b"HYLX" + header[4:] + b"\x7f\xff",  # bad magic
        HEADER + b"\x02" + header[5:] + b"\x7f\xff",  # unknown encoding
        HEADER + b"\x00" + header[5:] + bytes(100),  # dense of the wrong size
    ):
        set_both(diff, "bad", value)
        diff.check("PFADD", "bad", "x")
        diff.check("PFCOUNT", "bad")
        diff.check("PFCOUNT", "bad", "missing")
        diff.check("PFMERGE", "d", "bad")
        diff.check("PFDEBUG", "GETREG", "bad")


def test_corrupted_sparse_values(diff):
    header = HEADER + b"\x01\x00\x00\x00" + bytes(7) + b"\x80"
    for body in (
        b"\x00",  # covers one register
        b"",  # covers none
        b"\x7f\xff\x80",  # a VAL past the last register
        b"\x7f\xfe\x83",  # a VAL run that overflows the register count
        b"\x5f",  # a truncated XZERO
        b"\x40\x00" * 3,
    ):
        set_both(diff, "bad", header + body)
        diff.check("PFCOUNT", "bad")
        diff.check("PFCOUNT", "bad", "bad")
        diff.check("PFADD", "bad", "a", "b", "c", "d")
        diff.check("GET", "bad")
        diff.check("PFMERGE", "d", "bad")
        diff.check("PFDEBUG", "DECODE", "bad")
        diff.check("PFDEBUG", "GETREG", "bad")
        diff.check("PFDEBUG", "TODENSE", "bad")
        diff.check("GET", "bad")


def test_corrupted_sparse_partially_updated_by_pfadd(diff):
    # Registers 0..63 are covered, the rest is missing: elements landing in the covered part
    # update the value in place before a later element hits the corruption.
    header = HEADER + b"\x01\x00\x00\x00" + bytes(7) + b"\x80"
    set_both(diff, "bad", header + b"\x3f")
    diff.check("PFADD", "bad", element_for(3, 2), element_for(5000, 1))
    diff.check("GET", "bad")
    diff.check("PFADD", "bad", element_for(5, 2))
    diff.check("GET", "bad")


def test_dense_with_hand_edited_registers(diff):
    diff.check("PFADD", "h", *["v%d" % n for n in range(3000)])
    diff.check("PFDEBUG", "TODENSE", "h")
    diff.check("SETRANGE", "h", "100", b"\xff\xff\xff\xff")
    diff.check("PFCOUNT", "h")
    diff.check("PFADD", "h", "another")
    diff.check("PFCOUNT", "h", "missing")
    diff.check("GET", "h")


# -- PFDEBUG / PFSELFTEST ----------------------------------------------------------------------


def test_pfdebug_subcommands(diff):
    diff.check("PFADD", "h", "a", "b", "c")
    diff.run(
        """
        PFDEBUG DECODE h
        PFDEBUG decode h
        PFDEBUG ENCODING h
        PFDEBUG FOO h
        PFDEBUG TODENSE h
        PFDEBUG ENCODING h
        PFDEBUG TODENSE h
        PFDEBUG DECODE h
        GET h
        """
    )
    diff.check("PFDEBUG", "GETREG", "h")
    diff.check("PFADD", "s", "x")
    check_dirty(diff, "PFDEBUG", "GETREG", "s")
    diff.check("PFDEBUG", "ENCODING", "s")
    diff.check("GET", "s")
    diff.check("PFDEBUG", b"GETREG\x00x", "s")
    diff.check("PFDEBUG", b"FOO\x00x", "s")


def test_pfdebug_getreg_resp3(diff3):
    diff3.check("PFADD", "h", "a", "b", "c")
    diff3.check("PFDEBUG", "GETREG", "h")
    diff3.check("PFCOUNT", "h")


def test_pfselftest(diff):
    started = time.monotonic()
    diff.check("PFSELFTEST")
    assert time.monotonic() - started < 30


def test_object_encoding_and_types(diff):
    diff.run(
        """
        PFADD h a
        TYPE h
        OBJECT ENCODING h
        STRLEN h
        APPEND h x
        PFCOUNT h
        """
    )


# -- random programs ---------------------------------------------------------------------------

_element = st.one_of(
    st.binary(max_size=12),
    st.builds(element_for, st.integers(0, 60), st.integers(1, 6), st.integers(0, 3)),
    st.builds(element_for, st.integers(16320, 16383), st.integers(1, 34), st.integers(0, 3)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["PFADD", "PFADD", "PFMERGE", "PFCOUNT"]),
                  st.sampled_from(["a", "b", "c"]), st.lists(_element, max_size=8)),
        min_size=1, max_size=12,
    ),
    limit=st.sampled_from([30, 60, 3000]),
)
def test_random_programs_keep_identical_bytes(diff, sparse_limit, steps, limit):
    sparse_limit(limit)
    for key in ("a", "b", "c"):
        diff.ours.call("DEL", key)
        diff.theirs.call("DEL", key)
    for name, key, elements in steps:
        if name == "PFADD":
            diff.check("PFADD", key, *elements)
        elif name == "PFMERGE":
            diff.check("PFMERGE", key, *[other for other in ("a", "b", "c") if other != key])
        else:
            diff.check("PFCOUNT", key)
            diff.check("PFCOUNT", "a", "b", "c")
        diff.check("GET", key)


def test_keyspace_events(diff):
    collect_events(diff, [
        ("PFADD", "h", "a", "b"),
        ("PFADD", "h", "a"),
        ("PFCOUNT", "h"),
        ("PFCOUNT", "h", "missing"),
        ("PFMERGE", "m", "h"),
        ("PFMERGE", "m", "h"),
        ("PFDEBUG", "TODENSE", "m"),
        ("PFADD", "empty"),
    ])
