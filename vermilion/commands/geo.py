"""Geo commands: positions kept in sorted sets whose scores are 52-bit geohashes.

GEOADD is ZADD with computed scores (and propagates as that ZADD, as Redis does). One search
engine serves GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and GEOSEARCHSTORE, in
the order of checks of Redis 7.0's georadiusGeneric: the source key's type first, then the
centre and radius of the GEORADIUS forms, then each option in turn (its own errors at once), then
the mutual-exclusion errors. The arithmetic lives in vermilion.types.geohash.

# Format
GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
GEOPOS key [member ...]
GEODIST key member1 member2 [M|KM|FT|MI]
GEOHASH key [member ...]
GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]
GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options as GEORADIUS]
GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude
    BYRADIUS radius unit|BYBOX width height unit [ASC|DESC] [COUNT count [ANY]]
    [WITHCOORD] [WITHDIST] [WITHHASH]
GEOSEARCHSTORE destination source (as GEOSEARCH, without WITH*) [STOREDIST]
"""

from __future__ import annotations

from ..errors import (
    GEO_ANY_NEEDS_COUNT,
    GEO_BOX_NEGATIVE,
    GEO_COUNT_POSITIVE,
    GEO_HEIGHT_NOT_FLOAT,
    GEO_MEMBER_UNDECODABLE,
    GEO_RADIUS_NEGATIVE,
    GEO_RADIUS_NOT_FLOAT,
    GEO_UNIT,
    GEO_WIDTH_NOT_FLOAT,
    GEORADIUS_STORE_OPTIONS,
    GEOSEARCHSTORE_OPTIONS,
    NOT_FLOAT,
    NOT_INTEGER,
    SYNTAX,
    WRONGTYPE,
    RedisError,
    geo_invalid_pair,
    geo_needs_origin,
    geo_needs_shape,
)
from ..notify import NOTIFY_GENERIC, NOTIFY_ZSET, notify
from ..registry import command
from ..resp.encode import EMPTY_ARRAY, NULL2, NULL3, NULL_ARRAY2, ONE, ZERO, integer
from ..types import geohash
from ..types.geohash import Shape
from ..types.string import parse_int
from ..types.zset import ZSet, parse_double
from .strings import c_option
from .zsets import _read_zset, _zadd_generic


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def _coordinate(value: float, resp3: bool) -> bytes:
    text = geohash.format_coordinate(value)
    if resp3:
        return b",%s\r\n" % text
    return b"$%d\r\n%s\r\n" % (len(text), text)


def _position(score: float, resp3: bool) -> bytes:
    longitude, latitude = geohash.decode(score)
    return b"*2\r\n" + _coordinate(longitude, resp3) + _coordinate(latitude, resp3)


def _double(arg: bytes, error: str) -> float:
    value = parse_double(arg)
    if value is None:
        raise RedisError(error)
    return value


def _lonlat(longitude_arg: bytes, latitude_arg: bytes) -> tuple[float, float]:
    """A position argument pair, checked against the limits geohashes can represent."""
    longitude = parse_double(longitude_arg)
    latitude = parse_double(latitude_arg)
    if longitude is None or latitude is None:
        raise RedisError(NOT_FLOAT)
    if not (geohash.LONG_MIN <= longitude <= geohash.LONG_MAX
            and geohash.LAT_MIN <= latitude <= geohash.LAT_MAX):
        raise RedisError(geo_invalid_pair(longitude, latitude))
    return longitude, latitude


def _unit(arg: bytes) -> float:
    """Metres per unit of a unit argument (M, KM, FT, MI in any case)."""
    metres = geohash.UNITS.get(c_option(arg))
    if metres is None:
        raise RedisError(GEO_UNIT)
    return metres


def _member_position(zset: ZSet, member: bytes) -> tuple[float, float]:
    score = zset.scores.get(member)
    if score is None:
        raise RedisError(GEO_MEMBER_UNDECODABLE)
    return geohash.decode(score)


# -- GEOADD / GEOPOS / GEODIST / GEOHASH ---------------------------------------------------------


# First letters of GEOADD's options (NX, XX, CH): a longitude never starts with one.
_OPTION_LETTERS = frozenset(b"nNxXcC")


@command("geoadd")
def geoadd(client, argv):
    arg = argv[2]
    if len(argv) != 5 or not arg or arg[0] in _OPTION_LETTERS:
        return _geoadd_generic(client, argv)
    # One position and no options, the common case: ZADD's one-pair path, written out.
    longitude, latitude = _lonlat(arg, argv[3])
    bits = geohash.encode(longitude, latitude)
    score = float(bits)
    db = client.db
    key = argv[1]
    member = argv[4]
    zset = db.lookup_write(key)
    server = client.server
    if zset is None:
        config = server.config
        zset = ZSet()
        zset.insert(member, score, config.zset_max_listpack_entries, config.zset_max_listpack_value)
        db.set_value(key, zset)
        reply = ONE
    elif zset.__class__ is not ZSet:
        raise RedisError(WRONGTYPE)
    else:
        current = zset.scores.get(member)
        if current is None:
            config = server.config
            zset.insert(member, score, config.zset_max_listpack_entries,
                        config.zset_max_listpack_value)
            reply = ONE
        elif current == score:
            return ZERO
        else:
            zset.update(member, current, score)
            reply = ZERO
        db.modified(key)
    notify(db, NOTIFY_ZSET, b"zadd", key)
    if server.propagation is not None:
        server.propagate_as(client, [[b"zadd", key, b"%d" % bits, member]])
    return reply


def _geoadd_generic(client, argv: list[bytes]) -> bytes:
    """GEOADD with options or several positions: ZADD [NX|XX] [CH] with the computed scores
    (which is also what it propagates, as in Redis)."""
    nx = xx = False
    first = 2
    argc = len(argv)
    while first < argc:
        option = c_option(argv[first])
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option != b"CH":
            break
        first += 1
    if (argc - first) % 3 or (nx and xx):
        raise RedisError(SYNTAX)
    zadd_argv = [b"zadd", *argv[1:first]]
    for index in range(first, argc, 3):
        longitude, latitude = _lonlat(argv[index], argv[index + 1])
        zadd_argv.append(b"%d" % geohash.score_of(longitude, latitude))
        zadd_argv.append(argv[index + 2])
    server = client.server
    dirty = server.dirty
    reply = _zadd_generic(client, zadd_argv, False)
    if server.dirty != dirty:
        server.propagate_as(client, [zadd_argv])
    return reply


@command("geopos")
def geopos(client, argv):
    zset = _read_zset(client.db, argv[1])
    resp3 = client.resp3
    null = NULL3 if resp3 else NULL_ARRAY2
    scores = zset.scores if zset is not None else {}
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for member in argv[2:]:
        score = scores.get(member)
        parts.append(null if score is None else _position(score, resp3))
    return b"".join(parts)


@command("geodist")
def geodist(client, argv):
    metres_per_unit = 1.0
    if len(argv) == 5:
        metres_per_unit = _unit(argv[4])
    elif len(argv) > 5:
        raise RedisError(SYNTAX)
    null = NULL3 if client.resp3 else NULL2
    zset = _read_zset(client.db, argv[1])
    if zset is None:
        return null
    first = zset.scores.get(argv[2])
    second = zset.scores.get(argv[3])
    if first is None or second is None:
        return null
    lon1, lat1 = geohash.decode(first)
    lon2, lat2 = geohash.decode(second)
    metres = geohash.distance(lon1, lat1, lon2, lat2)
    return _bulk(geohash.format_distance(metres / metres_per_unit))


@command("geohash")
def geohash_command(client, argv):
    zset = _read_zset(client.db, argv[1])
    null = NULL3 if client.resp3 else NULL2
    scores = zset.scores if zset is not None else {}
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for member in argv[2:]:
        score = scores.get(member)
        parts.append(null if score is None else _bulk(geohash.geohash_string(score)))
    return b"".join(parts)


# -- the search engine ---------------------------------------------------------------------------

# Which command is searching (Redis's flags to georadiusGeneric).
_AROUND_POSITION = 1  # GEORADIUS: longitude latitude radius unit
_AROUND_MEMBER = 2  # GEORADIUSBYMEMBER: member radius unit
_NO_STORE = 4  # the _RO forms
_SEARCH = 8  # GEOSEARCH: FROM* and BY* options
_SEARCH_STORE = 16  # GEOSEARCHSTORE

_ASC = 1
_DESC = 2


def _radius(shape: Shape, radius_arg: bytes, unit_arg: bytes) -> None:
    radius = _double(radius_arg, GEO_RADIUS_NOT_FLOAT)
    if radius < 0:
        raise RedisError(GEO_RADIUS_NEGATIVE)
    shape.radius = radius
    shape.conversion = _unit(unit_arg)


def _box(shape: Shape, width_arg: bytes, height_arg: bytes, unit_arg: bytes) -> None:
    width = _double(width_arg, GEO_WIDTH_NOT_FLOAT)
    height = _double(height_arg, GEO_HEIGHT_NOT_FLOAT)
    if height < 0 or width < 0:
        raise RedisError(GEO_BOX_NEGATIVE)
    shape.width = width
    shape.height = height
    shape.conversion = _unit(unit_arg)


def _search(client, argv: list[bytes], source_index: int, flags: int) -> bytes:
    db = client.db
    zset = _read_zset(db, argv[source_index])
    shape = Shape(0.0, 0.0)
    store_key: bytes | None = None
    store_distance = False

    if flags & _AROUND_POSITION:
        first_option = 6
        shape.longitude, shape.latitude = _lonlat(argv[2], argv[3])
        _radius(shape, argv[4], argv[5])
    elif flags & _AROUND_MEMBER:
        first_option = 5
        # Without a source key the member and radius are not looked at, but the options are.
        if zset is not None:
            shape.longitude, shape.latitude = _member_position(zset, argv[2])
            _radius(shape, argv[3], argv[4])
    else:
        first_option = 2
        if flags & _SEARCH_STORE:
            first_option = 3
            store_key = argv[1]

    withdist = withhash = withcoord = False
    from_member = from_position = by_radius = by_box = False
    sort = 0
    any_found = False
    count = 0
    searching = flags & _SEARCH
    can_store = not (flags & _NO_STORE) and not searching
    argc = len(argv)
    index = first_option
    while index < argc:
        option = c_option(argv[index])
        left = argc - index - 1  # arguments after this one
        if option == b"WITHDIST":
            withdist = True
        elif option == b"WITHHASH":
            withhash = True
        elif option == b"WITHCOORD":
            withcoord = True
        elif option == b"ANY":
            any_found = True
        elif option == b"ASC":
            sort = _ASC
        elif option == b"DESC":
            sort = _DESC
        elif option == b"COUNT" and left >= 1:
            count = parse_int(argv[index + 1])
            if count is None:
                raise RedisError(NOT_INTEGER)
            if count <= 0:
                raise RedisError(GEO_COUNT_POSITIVE)
            index += 1
        elif option == b"STORE" and left >= 1 and can_store:
            store_key = argv[index + 1]
            store_distance = False
            index += 1
        elif option == b"STOREDIST" and left >= 1 and can_store:
            store_key = argv[index + 1]
            store_distance = True
            index += 1
        elif option == b"STOREDIST" and flags & _SEARCH_STORE:
            store_distance = True
        elif option == b"FROMMEMBER" and left >= 1 and searching and not from_position:
            if zset is not None:
                shape.longitude, shape.latitude = _member_position(zset, argv[index + 1])
            from_member = True
            index += 1
        elif option == b"FROMLONLAT" and left >= 2 and searching and not from_member:
            shape.longitude, shape.latitude = _lonlat(argv[index + 1], argv[index + 2])
            from_position = True
            index += 2
        elif option == b"BYRADIUS" and left >= 2 and searching and not by_box:
            _radius(shape, argv[index + 1], argv[index + 2])
            shape.is_box = False
            by_radius = True
            index += 2
        elif option == b"BYBOX" and left >= 3 and searching and not by_radius:
            _box(shape, argv[index + 1], argv[index + 2], argv[index + 3])
            shape.is_box = True
            by_box = True
            index += 3
        else:
            raise RedisError(SYNTAX)
        index += 1

    if store_key is not None and (withdist or withhash or withcoord):
        raise RedisError(GEOSEARCHSTORE_OPTIONS if flags & _SEARCH_STORE
                         else GEORADIUS_STORE_OPTIONS)
    if searching and not (from_member or from_position):
        raise RedisError(geo_needs_origin(argv[0]))
    if searching and not (by_radius or by_box):
        raise RedisError(geo_needs_shape(argv[0]))
    if any_found and not count:
        raise RedisError(GEO_ANY_NEEDS_COUNT)

    if zset is None:
        if store_key is None:
            return EMPTY_ARRAY
        if db.delete(store_key):
            notify(db, NOTIFY_GENERIC, b"del", store_key)
        return ZERO

    # COUNT alone means the nearest ones: sort ascending (ANY takes the first found instead).
    if count and not sort and not any_found:
        sort = _ASC
    found = geohash.search(zset, shape, count if any_found else 0)
    if not found and store_key is None:
        return EMPTY_ARRAY
    if sort:
        found = geohash.sort_found(found, sort == _DESC, count)
    elif count:
        found = found[:count]
    conversion = shape.conversion
    if store_key is not None:
        return _store(client, store_key, found, store_distance, conversion,
                      b"geosearchstore" if searching else b"georadiusstore")
    return _search_reply(found, conversion, withdist, withhash, withcoord, client.resp3)


def _search_reply(found: list[tuple], conversion: float, withdist: bool, withhash: bool,
                  withcoord: bool, resp3: bool) -> bytes:
    extras = withdist + withhash + withcoord
    parts = [b"*%d\r\n" % len(found)]
    if not extras:
        parts.extend(b"$%d\r\n%s\r\n" % (len(point[2]), point[2]) for point in found)
        return b"".join(parts)
    header = b"*%d\r\n" % (extras + 1)
    for metres, score, member, longitude, latitude in found:
        parts.append(header)
        parts.append(b"$%d\r\n%s\r\n" % (len(member), member))
        if withdist:
            parts.append(_bulk(geohash.format_distance(metres / conversion)))
        if withhash:
            parts.append(integer(geohash.hash_integer(score)))
        if withcoord:
            parts.append(b"*2\r\n" + _coordinate(longitude, resp3) + _coordinate(latitude, resp3))
    return b"".join(parts)


def _store(client, key: bytes, found: list[tuple], store_distance: bool, conversion: float,
           event: bytes) -> bytes:
    db = client.db
    if not found:
        if db.delete(key):
            notify(db, NOTIFY_GENERIC, b"del", key)
        return ZERO
    if store_distance:
        pairs = [(point[0] / conversion, point[2]) for point in found]
    else:
        pairs = [(point[1], point[2]) for point in found]
    config = client.server.config
    value = ZSet.from_pairs(pairs, config.zset_max_listpack_entries,
                            config.zset_max_listpack_value)
    db.lookup_write(key)  # an expired target is reclaimed (and counted) first
    db.set_value(key, value)
    if len(found) > 1:
        db.modified(key, len(found) - 1)  # Redis counts one change per stored member
    notify(db, NOTIFY_ZSET, event, key)
    return integer(len(found))


@command("georadius")
def georadius(client, argv):
    return _search(client, argv, 1, _AROUND_POSITION)


@command("georadiusbymember")
def georadiusbymember(client, argv):
    return _search(client, argv, 1, _AROUND_MEMBER)


@command("georadius_ro")
def georadius_ro(client, argv):
    return _search(client, argv, 1, _AROUND_POSITION | _NO_STORE)


@command("georadiusbymember_ro")
def georadiusbymember_ro(client, argv):
    return _search(client, argv, 1, _AROUND_MEMBER | _NO_STORE)


@command("geosearch")
def geosearch(client, argv):
    return _search(client, argv, 1, _SEARCH)


@command("geosearchstore")
def geosearchstore(client, argv):
    return _search(client, argv, 2, _SEARCH | _SEARCH_STORE)
