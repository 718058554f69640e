"""Geo commands, differential against real Redis 7.0: the same replies byte for byte (distances,
coordinates, hashes and the order of results), the same errors, the same stored sets, events and
dirty counts. Random positions and searches are seeded, so a failure names its case."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.commands.test_bitmaps import collect_events
from tests.commands.test_hyperloglog import check_dirty
from tests.resp_raw import RawConnection, encode_command

LAT_LIMIT = 85.05112878
UNITS = ("m", "km", "ft", "mi", "KM", "Mi")

SICILY = """
GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2
GEOADD Sicily 13.583333 37.316667 Agrigento
"""


def load(diff, script: str) -> None:
    diff.run(script)


# -- GEOADD -----------------------------------------------------------------------------------


def test_geoadd_replies_options_and_encoding(diff):
    diff.run("""
    GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
    GEOADD k 13.361389 38.115556 Palermo
    GEOADD k 13.4 38.1 Palermo
    GEOADD k CH 13.5 38.1 Palermo 1 1 one
    GEOADD k NX 0 0 Palermo 2 2 two
    GEOADD k NX CH 0 0 Palermo 3 3 three
    GEOADD k XX 0 0 Palermo 4 4 four
    GEOADD k XX CH 0.5 0.5 Palermo 4 4 four
    GEOADD k ch xx nx 1 1 x
    GEOADD k xx nx 1 1 x
    GEOADD k nx nx 1 1 x
    GEOADD k ch ch 1 1 y
    GEOADD k 1 1
    GEOADD k ch 1 1 z 2
    GEOADD k 1 2 m 3
    ZRANGE k 0 -1 WITHSCORES
    ZCARD k
    OBJECT ENCODING k
    GEOADD k 180 85.05112878 corner1 -180 -85.05112878 corner2 0 0 zero
    GEOADD k 180 -85.05112878 corner3 -180 85.05112878 corner4 -0 -0 negzero
    ZRANGE k 0 -1 WITHSCORES
    GEOPOS k corner1 corner2 corner3 corner4 zero negzero
    GEOHASH k corner1 corner2 corner3 corner4 zero negzero
    """)
    members = []
    for index in range(200):
        members += [f"{index * 1.7 - 170:.4f}", f"{index * 0.8 - 80:.4f}", f"member{index}"]
    diff.check("GEOADD", "big", *members)
    diff.check("OBJECT", "ENCODING", "big")
    diff.check("ZRANGE", "big", "0", "-1", "WITHSCORES")


def test_geoadd_errors(diff):
    diff.check("SET", "str", "x")
    for line in [
        ("GEOADD", "k", "200", "0", "m"),
        ("GEOADD", "k", "-180.0001", "0", "m"),
        ("GEOADD", "k", "0", "85.05112879", "m"),
        ("GEOADD", "k", "0", "-85.06", "m"),
        ("GEOADD", "k", "inf", "0", "m"),
        ("GEOADD", "k", "0", "-inf", "m"),
        ("GEOADD", "k", "1e300", "1e-300", "m"),
        ("GEOADD", "k", "nan", "0", "m"),
        ("GEOADD", "k", "x", "0", "m"),
        ("GEOADD", "k", "0", "", "m"),
        ("GEOADD", "k", " 1", "0", "m"),
        ("GEOADD", "k", "1", "2", "ok", "1", "200", "bad"),
        ("GEOADD", "k", "gt", "1", "2", "m"),
        ("GEOADD", "k", "incr", "1", "2", "m"),
        ("GEOADD", "k"),
        ("GEOADD", "k", "1", "2"),
        ("GEOADD", "str", "1", "2", "m"),
        ("GEOADD", "str", "1", "200", "m"),
        ("EXISTS", "k"),
    ]:
        diff.check(*line)


def test_geoadd_events_dirty_and_wakeup(diff):
    collect_events(diff, [
        ("GEOADD", "k", "1", "2", "a", "3", "4", "b"),
        ("GEOADD", "k", "1", "2", "a"),
        ("GEOADD", "k", "XX", "5", "6", "a"),
        ("GEOADD", "k", "NX", "5", "6", "c"),
    ])
    check_dirty(diff, "GEOADD", "d", "1", "2", "a", "3", "4", "b", "5", "6", "c")
    check_dirty(diff, "GEOADD", "d", "1", "2", "a", "3", "4", "b")
    check_dirty(diff, "GEOADD", "d", "CH", "1", "2", "a", "3", "5", "b", "7", "8", "new")


def test_geoadd_wakes_a_blocked_zset_pop(diff):
    replies = []
    for conn in (diff.ours, diff.theirs):
        port = conn.sock.getpeername()[1]
        waiter = RawConnection(port)
        try:
            waiter.send_raw(encode_command(("BZPOPMIN", "wake", "5")))
            # The waiter is parked once CLIENT LIST shows it blocked.
            for _ in range(200):
                if b"cmd=bzpopmin" in conn.call("CLIENT", "LIST"):
                    break
            conn.call("GEOADD", "wake", "13.361389", "38.115556", "Palermo")
            replies.append(waiter.read_reply())
        finally:
            waiter.close()
    assert replies[0] == replies[1]
    assert b"Palermo" in replies[0]


# -- GEOPOS / GEODIST / GEOHASH --------------------------------------------------------------


def test_position_distance_hash(diff):
    load(diff, SICILY)
    diff.check("SET", "str", "x")
    for line in [
        ("GEOPOS", "Sicily", "Palermo", "Catania", "missing", "Agrigento"),
        ("GEOPOS", "Sicily"),
        ("GEOPOS", "missing", "a", "b"),
        ("GEOPOS", "str", "a"),
        ("GEOHASH", "Sicily", "Palermo", "Catania", "missing", "edge1", "edge2"),
        ("GEOHASH", "Sicily"),
        ("GEOHASH", "missing", "a"),
        ("GEOHASH", "str", "a"),
        ("GEODIST", "Sicily", "Palermo", "Catania"),
        ("GEODIST", "Sicily", "Palermo", "Palermo"),
        ("GEODIST", "Sicily", "Palermo", "missing"),
        ("GEODIST", "Sicily", "missing", "Palermo"),
        ("GEODIST", "missing", "a", "b"),
        ("GEODIST", "missing", "a", "b", "parsec"),
        ("GEODIST", "str", "a", "b"),
        ("GEODIST", "str", "a", "b", "km", "extra"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "km", "extra"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "parsec"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "km\0junk"),
    ]:
        diff.check(*line)
    for unit in UNITS:
        diff.check("GEODIST", "Sicily", "Palermo", "Catania", unit)
        diff.check("GEODIST", "Sicily", "edge1", "edge2", unit)


def test_scores_not_written_by_geoadd(diff):
    """Any score decodes somehow: negative, fractional, huge and infinite ones as Redis's C
    conversions treat them."""
    diff.check("ZADD", "z", "-1", "a", "1.5", "b", "1e300", "c", "-1e300", "d",
               "9007199254740993", "e", "18446744073709551616", "f", "9223372036854775808", "g",
               "inf", "h", "-inf", "i", "0", "j", "4503599627370495", "k", "-0.5", "l")
    members = "abcdefghijkl"
    diff.check("GEOPOS", "z", *members)
    diff.check("GEOHASH", "z", *members)
    for first in members:
        diff.check("GEODIST", "z", first, "a")
    diff.check("GEOSEARCH", "z", "FROMLONLAT", "0", "0", "BYRADIUS", "30000", "km",
               "WITHHASH", "WITHCOORD", "WITHDIST")
    diff.check("GEORADIUSBYMEMBER", "z", "b", "100", "km", "WITHHASH", "WITHCOORD")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-LAT_LIMIT, LAT_LIMIT)),
                min_size=2, max_size=8))
def test_random_positions_round_trip(diff, points):
    args = []
    for index, (longitude, latitude) in enumerate(points):
        args += [repr(longitude), repr(latitude), f"p{index}"]
    diff.check("DEL", "h")
    diff.check("GEOADD", "h", *args)
    names = [f"p{index}" for index in range(len(points))]
    diff.check("ZRANGE", "h", "0", "-1", "WITHSCORES")
    diff.check("GEOPOS", "h", *names)
    diff.check("GEOHASH", "h", *names)
    diff.check("GEODIST", "h", names[0], names[-1], "km")
    diff.check("GEORADIUSBYMEMBER", "h", names[0], "2000", "km", "WITHDIST", "WITHCOORD")


# -- searches --------------------------------------------------------------------------------


def test_search_errors(diff):
    load(diff, SICILY)
    diff.check("SET", "str", "x")
    lines = [
        "GEORADIUS str 15 37 200 km",
        "GEORADIUS nokey 200 37 200 km",
        "GEORADIUS Sicily 200 37 200 km",
        "GEORADIUS Sicily 15 x 200 km",
        "GEORADIUS Sicily 15 37 x km",
        "GEORADIUS Sicily 15 37 -1 km",
        "GEORADIUS Sicily 15 37 nan km",
        "GEORADIUS Sicily 15 37 1 parsec",
        "GEORADIUS Sicily 15 37 200 km count 0",
        "GEORADIUS Sicily 15 37 200 km count -3",
        "GEORADIUS Sicily 15 37 200 km count",
        "GEORADIUS Sicily 15 37 200 km count x",
        "GEORADIUS Sicily 15 37 200 km count 99999999999999999999",
        "GEORADIUS Sicily 15 37 200 km any",
        "GEORADIUS Sicily 15 37 200 km any asc",
        "GEORADIUS Sicily 15 37 200 km store",
        "GEORADIUS Sicily 15 37 200 km storedist",
        "GEORADIUS Sicily 15 37 200 km store x withdist",
        "GEORADIUS Sicily 15 37 200 km withhash storedist x",
        "GEORADIUS Sicily 15 37 200 km withcoord store x any",
        "GEORADIUS Sicily 15 37 200 km frommember Palermo",
        "GEORADIUS Sicily 15 37 200 km bybox 1 1 km",
        "GEORADIUS Sicily 15 37 200 km bogus",
        "GEORADIUS_RO Sicily 15 37 200 km store x",
        "GEORADIUS_RO Sicily 15 37 200 km storedist x",
        "GEORADIUSBYMEMBER str Palermo 200 km",
        "GEORADIUSBYMEMBER Sicily missing 200 km",
        "GEORADIUSBYMEMBER Sicily missing x km",
        "GEORADIUSBYMEMBER Sicily Palermo x km",
        "GEORADIUSBYMEMBER Sicily Palermo 1 parsec",
        "GEORADIUSBYMEMBER nokey missing x parsec",
        "GEORADIUSBYMEMBER nokey missing x parsec withdist",
        "GEORADIUSBYMEMBER nokey missing x parsec bogus",
        "GEORADIUSBYMEMBER nokey missing x parsec store x withdist",
        "GEORADIUSBYMEMBER nokey missing x parsec any",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km store x",
        "GEOSEARCH str FROMMEMBER Palermo BYRADIUS 1 km",
        "GEOSEARCH Sicily BYRADIUS 1 km WITHDIST",
        "geosearch Sicily BYRADIUS 1 km ASC COUNT 3",
        "GeoSearch Sicily FROMMEMBER Palermo WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 ASC COUNT 1",
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 FROMLONLAT 15 38 BYRADIUS 100 km",
        "GEOSEARCH Sicily FROMMEMBER Catania FROMMEMBER Palermo BYRADIUS 100 km",
        "GEOSEARCH Sicily FROMMEMBER missing BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 km BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYRADIUS 300 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 km BYBOX 300 300 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX -1 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 -1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX x 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 x km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX x x parsec",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 parsec",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1",
        "GEOSEARCH Sicily FROMLONLAT 15 BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 100 BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS -1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km STORE x",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km STOREDIST",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km ANY",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km COUNT 0",
        "GEOSEARCH nokey FROMMEMBER missing BYRADIUS 1 km",
        "GEOSEARCH nokey FROMMEMBER missing BYBOX 1 1 km WITHDIST COUNT 3 ANY",
        "GEOSEARCH nokey FROMMEMBER missing FROMLONLAT 1 2 BYRADIUS 1 km",
        "GEOSEARCH nokey FROMMEMBER missing BYRADIUS x km",
        "GEOSEARCH nokey BYRADIUS 1 km",
        "GEOSEARCH nokey FROMLONLAT 1 2 COUNT 1",
        "GEOSEARCHSTORE d str FROMMEMBER Palermo BYRADIUS 1 km",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km WITHDIST",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km WITHCOORD",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km WITHHASH",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km STORE x",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km STOREDIST x",
        "geosearchstore d Sicily BYRADIUS 1 km",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo",
        "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km ANY",
        "EXISTS d x",
    ]
    for line in lines:
        diff.check(*line.split())


def test_search_options(diff):
    load(diff, SICILY)
    lines = [
        "GEORADIUS Sicily 15 37 200 km",
        "GEORADIUS Sicily 15 37 200 km ASC",
        "GEORADIUS Sicily 15 37 200 km DESC",
        "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
        "GEORADIUS Sicily 15 37 200 km withhash withdist withcoord desc",
        "GEORADIUS Sicily 15 37 200 km WITHCOORD",
        "GEORADIUS Sicily 15 37 200 km WITHHASH COUNT 1",
        "GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 2 DESC",
        "GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 2 ANY",
        "GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 2 ANY DESC",
        "GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 200 ANY ASC",
        "GEORADIUS Sicily 15 37 200 km COUNT 1 COUNT 3",
        "GEORADIUS Sicily 15 37 200 km ASC DESC",
        "GEORADIUS Sicily 15 37 0 km WITHDIST",
        "GEORADIUS Sicily 15 37 1 m",
        "GEORADIUS Sicily 15 37 20000 km WITHDIST",
        "GEORADIUS Sicily 15 37 1e30 km WITHDIST",
        "GEORADIUS Sicily 15 37 inf km WITHDIST",
        "GEORADIUS Sicily 15 37 200 KM WITHDIST",
        "GEORADIUS Sicily 15 37 200 mi WITHDIST",
        "GEORADIUS Sicily 15 37 200000 ft WITHDIST",
        "GEORADIUS Sicily 15 37 200000 m WITHDIST",
        "GEORADIUS_RO Sicily 15 37 200 km WITHDIST ASC",
        "GEORADIUSBYMEMBER Sicily Agrigento 100 km",
        "GEORADIUSBYMEMBER Sicily Agrigento 100 km WITHDIST WITHCOORD WITHHASH DESC",
        "GEORADIUSBYMEMBER Sicily Agrigento 1000 km COUNT 2",
        "GEORADIUSBYMEMBER_RO Sicily Agrigento 100 km WITHDIST",
        "GEORADIUSBYMEMBER nokey Agrigento 100 km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km DESC WITHDIST WITHCOORD",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 1 WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 ANY WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 200 100 mi DESC WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 0 0 km WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 100 0.001 km WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 0 m WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km WITHDIST COUNT 3 ANY COUNT 2",
    ]
    for line in lines:
        diff.check(*line.split())


def test_search_resp3(diff3):
    load(diff3, SICILY)
    diff3.run("""
    GEOPOS Sicily Palermo missing
    GEODIST Sicily Palermo Catania
    GEODIST Sicily Palermo missing
    GEODIST missing a b
    GEOHASH Sicily Palermo missing
    GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC
    GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km WITHCOORD
    GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX 1 1 km WITHCOORD
    GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYBOX 400 400 km
    """)


def test_store(diff):
    load(diff, SICILY)
    lines = [
        "GEORADIUS Sicily 15 37 200 km STORE dst",
        "ZRANGE dst 0 -1 WITHSCORES",
        "OBJECT ENCODING dst",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 mi STOREDIST dst COUNT 2 DESC",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst STORE dst2",
        "ZRANGE dst2 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STORE dst3 STOREDIST dst4",
        "EXISTS dst3",
        "ZRANGE dst4 0 -1 WITHSCORES",
        "GEORADIUSBYMEMBER Sicily Palermo 100 km STORE dst5 COUNT 1",
        "ZRANGE dst5 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst6 Sicily FROMLONLAT 15 37 BYBOX 400 400 km",
        "ZRANGE dst6 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst6 Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST",
        "ZRANGE dst6 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst6 Sicily FROMLONLAT 15 37 BYRADIUS 300 ft STOREDIST",
        "EXISTS dst6",
        "GEOSEARCHSTORE dst6 Sicily FROMLONLAT 15 37 BYRADIUS 300 ft",
        "SET dst7 x",
        "EXPIRE dst7 1000",
        "GEOSEARCHSTORE dst7 Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 STOREDIST",
        "TTL dst7",
        "TYPE dst7",
        "GEORADIUS Sicily 0 0 1 km STORE dst7",
        "EXISTS dst7",
        "SET dst8 x",
        "GEORADIUS nokey 0 0 1 km STORE dst8",
        "EXISTS dst8",
        "SET dst9 x",
        "GEORADIUSBYMEMBER nokey m x parsec STORE dst9",
        "EXISTS dst9",
        "SET dst10 x",
        "GEOSEARCHSTORE dst10 nokey FROMMEMBER x BYBOX 1 1 km",
        "EXISTS dst10",
        "GEOSEARCHSTORE Sicily Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "ZRANGE Sicily 0 -1 WITHSCORES",
    ]
    for line in lines:
        diff.check(*line.split())


def test_store_encoding_follows_listpack_limits(diff):
    args = []
    for index in range(150):
        args += [f"{10 + index * 0.001:.5f}", "45", f"p{index}"]
    diff.check("GEOADD", "many", *args)
    diff.check("GEOSEARCHSTORE", "small", "many", "FROMLONLAT", "10", "45", "BYRADIUS", "5", "km")
    diff.check("OBJECT", "ENCODING", "small")
    diff.check("GEOSEARCHSTORE", "large", "many", "FROMLONLAT", "10", "45", "BYRADIUS", "50",
               "km", "STOREDIST")
    diff.check("OBJECT", "ENCODING", "large")
    diff.check("ZRANGE", "large", "0", "-1", "WITHSCORES")
    diff.check("GEOADD", "long", "10", "45", "x" * 100)
    diff.check("GEOSEARCHSTORE", "longdst", "long", "FROMLONLAT", "10", "45", "BYRADIUS", "5",
               "km")
    diff.check("OBJECT", "ENCODING", "longdst")


def test_store_events_and_dirty(diff):
    load(diff, SICILY)
    collect_events(diff, [
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "a"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STOREDIST", "b"),
        ("GEOSEARCHSTORE", "c", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
        ("GEOSEARCHSTORE", "c", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
        ("GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "a"),
        ("GEORADIUS", "missing", "0", "0", "1", "km", "STORE", "b"),
        ("GEOADD", "Sicily", "1", "1", "new"),
    ])
    check_dirty(diff, "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "a")
    check_dirty(diff, "GEOSEARCHSTORE", "c", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS",
                "200", "km", "STOREDIST")
    check_dirty(diff, "GEOSEARCHSTORE", "c", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS",
                "1", "km")
    check_dirty(diff, "GEOSEARCHSTORE", "c", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS",
                "1", "km")
    check_dirty(diff, "GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST")


def test_equal_distances_keep_redis_order(diff):
    """Points at one position tie on distance: full sorts keep the order found (glibc's merge
    sort); COUNT below the result size selects among ties as Redis's pqsort does."""
    args = []
    for index in range(60):
        args += ["10", "45", f"same{index:02d}"]
    for index in range(60):
        args += ["10.01", "45", f"near{index:02d}"]
    diff.check("GEOADD", "ties", *args)
    for count in (1, 2, 5, 7, 8, 30, 41, 59, 60, 61, 100, 119, 120, 121):
        for order in ("ASC", "DESC"):
            diff.check("GEOSEARCH", "ties", "FROMLONLAT", "10.003", "45", "BYRADIUS", "5", "km",
                       "COUNT", str(count), order, "WITHDIST")
            diff.check("GEOSEARCH", "ties", "FROMLONLAT", "10.003", "45", "BYRADIUS", "5", "km",
                       "COUNT", str(count), order, "ANY")
    diff.check("GEOSEARCH", "ties", "FROMLONLAT", "10.003", "45", "BYRADIUS", "5", "km", "DESC")
    diff.check("GEOSEARCH", "ties", "FROMLONLAT", "10.003", "45", "BYRADIUS", "5", "km", "ASC")
    rng = random.Random(5)
    args = []
    for index in range(300):
        args += [f"{10 + rng.randrange(6) * 0.01:.2f}", f"{45 + rng.randrange(4) * 0.01:.2f}",
                 f"r{index}"]
    diff.check("GEOADD", "grid", *args)
    for _ in range(40):
        count = str(rng.randint(1, 320))
        order = rng.choice(("ASC", "DESC"))
        diff.check("GEOSEARCH", "grid", "FROMLONLAT", "10.02", "45.01", "BYRADIUS", "20", "km",
                   "COUNT", count, order)


def random_position(rng: random.Random, cluster: bool) -> tuple[float, float]:
    if cluster:
        return 10 + rng.gauss(0, 0.5), max(-85.0, min(85.0, 45 + rng.gauss(0, 0.5)))
    return rng.uniform(-180, 180), rng.uniform(-LAT_LIMIT, LAT_LIMIT)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_searches(diff, seed):
    """Random points (world-wide and one dense cluster) and random radius and box searches of
    every size with every option: identical replies."""
    rng = random.Random(seed)
    members = []
    args = []
    for index in range(400):
        longitude, latitude = random_position(rng, index % 2 == 0)
        args += [f"{longitude:.6f}", f"{latitude:.6f}", f"m{index}"]
        members.append(f"m{index}")
    diff.check("GEOADD", "g", *args)
    for _ in range(150):
        options = []
        if rng.random() < 0.4:
            options.append("WITHDIST")
        if rng.random() < 0.3:
            options.append("WITHCOORD")
        if rng.random() < 0.3:
            options.append("WITHHASH")
        roll = rng.random()
        if roll < 0.3:
            options.append("ASC")
        elif roll < 0.6:
            options.append("DESC")
        if rng.random() < 0.4:
            options += ["COUNT", str(rng.randint(1, 30))]
            if rng.random() < 0.3:
                options.append("ANY")
        radius = f"{10 ** rng.uniform(0, 7.3):.3f}"
        unit = rng.choice(UNITS)
        longitude, latitude = random_position(rng, rng.random() < 0.4)
        center = [f"{longitude:.5f}", f"{latitude:.5f}"]
        kind = rng.randrange(4)
        if kind == 0:
            command = ["GEORADIUS", "g", *center, radius, unit, *options]
        elif kind == 1:
            command = ["GEORADIUSBYMEMBER", "g", rng.choice(members), radius, unit, *options]
        else:
            if rng.random() < 0.5:
                origin = ["FROMMEMBER", rng.choice(members)]
            else:
                origin = ["FROMLONLAT", *center]
            if kind == 2:
                shape = ["BYRADIUS", radius, unit]
            else:
                shape = ["BYBOX", f"{10 ** rng.uniform(0, 7.3):.3f}",
                         f"{10 ** rng.uniform(0, 7.3):.3f}", unit]
            command = ["GEOSEARCH", "g", *origin, *shape, *options]
        diff.check(*command)
    for _ in range(100):
        first, second = rng.choice(members), rng.choice(members)
        diff.check("GEODIST", "g", first, second, rng.choice(UNITS))
    diff.check("GEOPOS", "g", *members)
    diff.check("GEOHASH", "g", *members)


def test_edges_of_the_map(diff):
    """Centres near the poles' limits and the antimeridian, where cells wrap and the search
    area is widened or reduced."""
    rng = random.Random(11)
    args = []
    for index in range(300):
        longitude = rng.choice((-1, 1)) * rng.uniform(170, 180)
        latitude = rng.choice((-1, 1)) * rng.uniform(0, LAT_LIMIT)
        if index % 3 == 0:
            longitude = rng.uniform(-180, 180)
            latitude = rng.choice((-1, 1)) * rng.uniform(75, LAT_LIMIT)
        args += [f"{longitude:.6f}", f"{latitude:.6f}", f"e{index}"]
    diff.check("GEOADD", "edge", *args)
    for longitude in ("180", "-180", "179.99", "-179.99", "0"):
        for latitude in ("85.05112878", "-85.05112878", "84", "-70", "0"):
            for radius in ("1", "100", "1000", "5000", "20000"):
                diff.check("GEORADIUS", "edge", longitude, latitude, radius, "km", "WITHDIST",
                           "ASC")
            diff.check("GEOSEARCH", "edge", "FROMLONLAT", longitude, latitude, "BYBOX", "2000",
                       "500", "km", "WITHDIST", "ASC")


def test_command_table_and_watch(diff):
    for name in ("geoadd", "geopos", "geodist", "geohash", "georadius", "georadius_ro",
                 "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"):
        diff.check("COMMAND", "INFO", name)
        diff.check("COMMAND", "GETKEYS", *{
            "geosearchstore": ("geosearchstore", "d", "s", "FROMLONLAT", "0", "0", "BYRADIUS",
                               "1", "km"),
            "georadius": ("georadius", "s", "0", "0", "1", "km", "STORE", "d"),
        }.get(name, (name, "s", "0", "0", "m", "0", "0", "0")))
    for writer in (("GEOADD", "w", "1", "2", "m"),
                   ("GEOSEARCHSTORE", "w", "src", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km")):
        diff.check("GEOADD", "src", "1", "2", "m")
        diff.check("WATCH", "w")
        other = [RawConnection(conn.sock.getpeername()[1]) for conn in (diff.ours, diff.theirs)]
        try:
            assert other[0].call(*writer) == other[1].call(*writer)
        finally:
            for conn in other:
                conn.close()
        diff.check("MULTI")
        diff.check("GET", "w")
        diff.check("EXEC")


def test_distances_along_a_meridian_and_their_rounding(diff):
    """Redis 7.0 measures along a meridian from the latitude difference alone (not the full
    haversine: the last bits differ), and prints distances by rounding the distance times 10^4
    to an integer, which differs from "%.4f" when the scaled value rounds to a half."""
    rng = random.Random(9)
    args = []
    for index in range(80):
        args += ["12.5", f"{rng.uniform(-LAT_LIMIT, LAT_LIMIT):.7f}", f"m{index}"]
    diff.check("GEOADD", "meridian", *args)
    for origin in ("m0", "m1", "m2"):
        diff.check("GEOSEARCHSTORE", "d", "meridian", "FROMMEMBER", origin, "BYRADIUS", "20000",
                   "km", "STOREDIST")
        diff.check("ZRANGE", "d", "0", "-1", "WITHSCORES")
        diff.check("GEOSEARCHSTORE", "d", "meridian", "FROMMEMBER", origin, "BYBOX", "10", "40000",
                   "km", "STOREDIST")
        diff.check("ZRANGE", "d", "0", "-1", "WITHSCORES")
    for index in range(1, 80):
        diff.check("GEODIST", "meridian", "m0", f"m{index}", "m")
    # A pair whose distance in metres times 10^4 rounds to an exact half.
    diff.check("GEOADD", "half", "154.28605645895004272", "-32.59611235579515665", "a",
               "9.50754851102828979", "44.91764284873657687", "b")
    for unit in UNITS:
        diff.check("GEODIST", "half", "a", "b", unit)
        diff.check("GEOSEARCH", "half", "FROMMEMBER", "a", "BYRADIUS", "20000", "km", "WITHDIST")


def test_partial_sort_of_an_already_ordered_line(diff):
    """Points on a line away from the centre (some doubled) reach the sort almost in order:
    there Redis 7.0's pqsort (which has no switch to insertion sort) picks its own member
    among equal distances."""
    rng = random.Random(0)
    count = rng.randint(40, 150)
    args = []
    for index in range(count):
        step = index // 2 if rng.random() < 0.3 else index
        args += ["10", repr(45 + step * 0.0005), f"p{index:03d}"]
    diff.check("GEOADD", "line", *args)
    for limit in range(1, count, 3):
        for order in ("ASC", "DESC"):
            diff.check("GEOSEARCH", "line", "FROMLONLAT", "10", "45", "BYRADIUS", "50", "km",
                       "COUNT", str(limit), order)
