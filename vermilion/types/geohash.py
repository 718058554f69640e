"""Geohash arithmetic as Redis 7.0 does it: the 52-bit scores of geo sorted sets, the nine-cell
area search, distances, and the text forms of coordinates and distances.

A position is stored as a sorted-set score: longitude (-180..180) and latitude (-85.05112878..
85.05112878, the Web Mercator limits) are each scaled to 26 bits and interleaved, latitude bits in
the even positions and longitude bits in the odd ones. Decoding gives the centre of the cell.

Every computation follows Redis's order of floating-point operations, so distances and coordinates
are bit-identical (Python's math module calls the same libm). Scores that were not written by
GEOADD are decoded the way the C conversion of a double to uint64_t behaves on x86-64.

A search (radius or box) picks a cell size from the radius (``estimate_steps``), takes the cell of
the centre and its eight neighbours, drops neighbours outside the bounding box, and walks the score
range of each cell, keeping the points inside the shape.
"""

from __future__ import annotations

import math
from operator import itemgetter

from .zset import ScoreRange, ZSet

LONG_MIN = -180.0
LONG_MAX = 180.0
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
STEP_MAX = 26

# GEOHASH strings are computed on the standard latitude range.
_STANDARD_LAT_MIN = -90.0
_STANDARD_LAT_MAX = 90.0

EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37
_DEG_TO_RAD = math.pi / 180.0

_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF
_TWO_63 = 9223372036854775808.0
_INDEFINITE = 1 << 63  # what x86-64 gives for an unrepresentable double-to-integer conversion

_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA

_BASE32 = b"0123456789bcdefghjkmnpqrstuvwxyz"

# Unit name -> metres per unit.
UNITS = {b"M": 1.0, b"KM": 1000.0, b"FT": 0.3048, b"MI": 1609.34}


# -- bits ----------------------------------------------------------------------------------------


def _spread(value: int) -> int:
    """The 32 low bits of ``value`` moved to the even bit positions."""
    value = (value | (value << 16)) & 0x0000FFFF0000FFFF
    value = (value | (value << 8)) & 0x00FF00FF00FF00FF
    value = (value | (value << 4)) & 0x0F0F0F0F0F0F0F0F
    value = (value | (value << 2)) & 0x3333333333333333
    return (value | (value << 1)) & _EVEN


def _squash(value: int) -> int:
    """The even bits of ``value`` packed into 32 bits (the inverse of ``_spread``)."""
    value &= _EVEN
    value = (value | (value >> 1)) & 0x3333333333333333
    value = (value | (value >> 2)) & 0x0F0F0F0F0F0F0F0F
    value = (value | (value >> 4)) & 0x00FF00FF00FF00FF
    value = (value | (value >> 8)) & 0x0000FFFF0000FFFF
    return (value | (value >> 16)) & _U32


# Each byte value with its bits moved to the even positions of 16 bits (for encoding).
_SPREAD8 = [_spread(value) for value in range(256)]


def encode(longitude: float, latitude: float, step: int = STEP_MAX,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> int | None:
    """The ``2 * step`` bit hash of a position, None outside the supported limits."""
    if not (LONG_MIN <= longitude <= LONG_MAX and LAT_MIN <= latitude <= LAT_MAX):
        return None
    if not lat_min <= latitude <= lat_max:
        return None
    scale = 1 << step
    # C converts the scaled offsets to uint32_t: truncation.
    lat_bits = int((latitude - lat_min) / (lat_max - lat_min) * scale)
    long_bits = int((longitude - LONG_MIN) / (LONG_MAX - LONG_MIN) * scale)
    table = _SPREAD8
    lat_spread = (table[lat_bits & 0xFF] | (table[(lat_bits >> 8) & 0xFF] << 16)
                  | (table[(lat_bits >> 16) & 0xFF] << 32) | (table[lat_bits >> 24] << 48))
    long_spread = (table[long_bits & 0xFF] | (table[(long_bits >> 8) & 0xFF] << 16)
                   | (table[(long_bits >> 16) & 0xFF] << 32) | (table[long_bits >> 24] << 48))
    return lat_spread | (long_spread << 1)


def score_of(longitude: float, latitude: float) -> int:
    """The sorted-set score GEOADD stores for a position (already checked to be valid)."""
    return encode(longitude, latitude)  # type: ignore[return-value]


def _even_bits_table() -> list[int]:
    """For every 16-bit value, its 8 even-position bits packed together."""
    small = [_squash(value) for value in range(256)]
    return [low | (high << 4) for high in small for low in small]


# Squashing 16 bits at a time: decoding is on the hot path of every search.
_EVEN16 = _even_bits_table()


def _squash_fast(value: int) -> int:
    table = _EVEN16
    return (table[value & 0xFFFF] | (table[(value >> 16) & 0xFFFF] << 8)
            | (table[(value >> 32) & 0xFFFF] << 16) | (table[(value >> 48) & 0xFFFF] << 24))


def cell(bits: int, step: int) -> tuple[float, float, float, float]:
    """(longitude min, longitude max, latitude min, latitude max) of a hash cell."""
    lat_cell = _squash_fast(bits)
    long_cell = _squash_fast(bits >> 1)
    scale = 1 << step
    lat_scale = LAT_MAX - LAT_MIN
    long_scale = LONG_MAX - LONG_MIN
    # The C code adds 1 in 32-bit unsigned arithmetic.
    return (
        LONG_MIN + (long_cell * 1.0 / scale) * long_scale,
        LONG_MIN + (((long_cell + 1) & _U32) * 1.0 / scale) * long_scale,
        LAT_MIN + (lat_cell * 1.0 / scale) * lat_scale,
        LAT_MIN + (((lat_cell + 1) & _U32) * 1.0 / scale) * lat_scale,
    )


def score_bits(score: float) -> int:
    """A score as C's ``(uint64_t)`` conversion turns it into hash bits on x86-64."""
    if score != score:
        return _INDEFINITE
    if score < _TWO_63:
        if score < -_TWO_63:
            return _INDEFINITE
        return int(score) & _U64
    rest = score - _TWO_63
    if rest >= _TWO_63:
        return 0  # the indefinite value, with its top bit flipped back
    return int(rest) ^ (1 << 63)


def hash_integer(score: float) -> int:
    """A score as C's ``(long long)`` conversion gives it (WITHHASH)."""
    if score != score or not -_TWO_63 <= score < _TWO_63:
        return -(1 << 63)
    return int(score)


_LAT_SCALE = LAT_MAX - LAT_MIN
_LONG_SCALE = LONG_MAX - LONG_MIN
_CELLS = float(1 << STEP_MAX)
_TWO_53 = 9007199254740992.0


def decode(score: float) -> tuple[float, float]:
    """(longitude, latitude) of a stored score: the centre of its cell, kept within limits.
    Written out (and repeated in ``search``) because every search decodes every candidate."""
    if 0.0 <= score < _TWO_53:
        bits = int(score)
    else:
        bits = score_bits(score)
    table = _EVEN16
    lat_cell = (table[bits & 0xFFFF] | (table[(bits >> 16) & 0xFFFF] << 8)
                | (table[(bits >> 32) & 0xFFFF] << 16) | (table[(bits >> 48) & 0xFFFF] << 24))
    bits >>= 1
    long_cell = (table[bits & 0xFFFF] | (table[(bits >> 16) & 0xFFFF] << 8)
                 | (table[(bits >> 32) & 0xFFFF] << 16) | (table[(bits >> 48) & 0xFFFF] << 24))
    longitude = ((LONG_MIN + (long_cell / _CELLS) * _LONG_SCALE)
                 + (LONG_MIN + (((long_cell + 1) & _U32) / _CELLS) * _LONG_SCALE)) / 2
    if longitude > LONG_MAX:
        longitude = LONG_MAX
    elif longitude < LONG_MIN:
        longitude = LONG_MIN
    latitude = ((LAT_MIN + (lat_cell / _CELLS) * _LAT_SCALE)
                + (LAT_MIN + (((lat_cell + 1) & _U32) / _CELLS) * _LAT_SCALE)) / 2
    if latitude > LAT_MAX:
        latitude = LAT_MAX
    elif latitude < LAT_MIN:
        latitude = LAT_MIN
    return longitude, latitude


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11 characters: the decoded position re-encoded on latitudes -90..90; the last
    character stands for bits a 52-bit hash does not have (always '0')."""
    longitude, latitude = decode(score)
    bits = encode(longitude, latitude, STEP_MAX, _STANDARD_LAT_MIN, _STANDARD_LAT_MAX) or 0
    chars = bytearray(11)
    for index in range(10):
        chars[index] = _BASE32[(bits >> (52 - (index + 1) * 5)) & 0x1F]
    chars[10] = _BASE32[0]
    return bytes(chars)


def _move_x(bits: int, step: int, direction: int) -> int:
    """The cell ``direction`` steps east (+1) or west (-1), wrapping around."""
    x = bits & _ODD
    y = bits & _EVEN
    low = _EVEN >> (64 - step * 2)
    if direction > 0:
        x = x + (low + 1)
    else:
        x = (x | low) - (low + 1)
    return (x & (_ODD >> (64 - step * 2))) | y


def _move_y(bits: int, step: int, direction: int) -> int:
    """The cell ``direction`` steps north (+1) or south (-1), wrapping around."""
    x = bits & _ODD
    y = bits & _EVEN
    low = _ODD >> (64 - step * 2)
    if direction > 0:
        y = y + (low + 1)
    else:
        y = (y | low) - (low + 1)
    return x | (y & (_EVEN >> (64 - step * 2)))


def neighbours(bits: int, step: int) -> list[int]:
    """The eight surrounding cells: north, south, east, west, NE, NW, SE, SW."""
    east = _move_x(bits, step, 1)
    west = _move_x(bits, step, -1)
    return [
        _move_y(bits, step, 1),
        _move_y(bits, step, -1),
        east,
        west,
        _move_y(east, step, 1),
        _move_y(west, step, 1),
        _move_y(east, step, -1),
        _move_y(west, step, -1),
    ]


# -- distances -----------------------------------------------------------------------------------


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on Redis's earth radius). Along a meridian
    Redis 7.0 takes the latitude difference directly, which can differ in the last bit."""
    lon1r = lon1 * _DEG_TO_RAD
    lon2r = lon2 * _DEG_TO_RAD
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return EARTH_RADIUS_IN_METERS * abs(lat2 * _DEG_TO_RAD - lat1 * _DEG_TO_RAD)
    lat1r = lat1 * _DEG_TO_RAD
    lat2r = lat2 * _DEG_TO_RAD
    u = math.sin((lat2r - lat1r) / 2)
    root = math.sqrt(u * u + math.cos(lat1r) * math.cos(lat2r) * v * v)
    if root > 1.0:
        return math.nan  # asin's domain error, which C reports as NaN
    return 2.0 * EARTH_RADIUS_IN_METERS * math.asin(root)


def estimate_steps(range_meters: float, latitude: float) -> int:
    """Bits per coordinate of the nine search cells for a search of this radius."""
    if range_meters == 0:
        return STEP_MAX
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    # Meridians converge towards the poles: use wider cells there.
    if latitude > 66 or latitude < -66:
        step -= 1
        if latitude > 80 or latitude < -80:
            step -= 1
    return max(1, min(step, STEP_MAX))


def _cos(angle: float) -> float:
    """cos as C computes it: NaN (not an exception) for an infinite angle (infinite radii)."""
    return math.cos(angle) if math.isfinite(angle) else math.nan


class Shape:
    """A search area: a circle (``radius``) or a box (``width`` x ``height``) around a centre,
    sizes in the unit whose length in metres is ``conversion``."""

    __slots__ = ("longitude", "latitude", "conversion", "is_box", "radius", "width", "height")

    def __init__(self, longitude: float, latitude: float) -> None:
        self.longitude = longitude
        self.latitude = latitude
        self.conversion = 1.0
        self.is_box = False
        self.radius = 0.0
        self.width = 0.0
        self.height = 0.0

    def bounds(self) -> tuple[float, float, float, float]:
        """(min longitude, min latitude, max longitude, max latitude) around the area."""
        conversion = self.conversion
        if self.is_box:
            height = conversion * (self.height / 2)
            width = conversion * (self.width / 2)
        else:
            height = conversion * self.radius
            width = conversion * self.radius
        latitude = self.latitude
        longitude = self.longitude
        lat_delta = (height / EARTH_RADIUS_IN_METERS) / _DEG_TO_RAD
        ratio = width / EARTH_RADIUS_IN_METERS
        long_delta_top = (ratio / _cos((latitude + lat_delta) * _DEG_TO_RAD)) / _DEG_TO_RAD
        long_delta_bottom = (ratio / _cos((latitude - lat_delta) * _DEG_TO_RAD)) / _DEG_TO_RAD
        # The area is widest on the side nearer the pole.
        long_delta = long_delta_bottom if latitude < 0 else long_delta_top
        return (longitude - long_delta, latitude - lat_delta,
                longitude + long_delta, latitude + lat_delta)

    def search_radius(self) -> float:
        """Metres from the centre to the farthest point of the area."""
        if self.is_box:
            half_width = self.width / 2
            half_height = self.height / 2
            radius = math.sqrt(half_width * half_width + half_height * half_height)
        else:
            radius = self.radius
        return radius * self.conversion

    def cells(self) -> list[tuple[int, int] | None]:
        """The nine (hash bits, step) cells to search, centre first; None for a dropped one."""
        min_lon, min_lat, max_lon, max_lat = self.bounds()
        longitude = self.longitude
        latitude = self.latitude
        steps = estimate_steps(self.search_radius(), latitude)
        bits = encode(longitude, latitude, steps) or 0
        around = neighbours(bits, steps)
        north = cell(around[0], steps)
        south = cell(around[1], steps)
        east = cell(around[2], steps)
        west = cell(around[3], steps)
        # Near a cell edge the estimated cells can be too small to cover the area.
        too_small = (north[3] < max_lat or south[2] > min_lat
                     or east[1] < max_lon or west[0] > min_lon)
        if steps > 1 and too_small:
            steps -= 1
            bits = encode(longitude, latitude, steps) or 0
            around = neighbours(bits, steps)
        cells: list[tuple[int, int] | None] = [(bits, steps)]
        cells.extend((neighbour, steps) for neighbour in around)
        if steps >= 2:
            area_lon_min, area_lon_max, area_lat_min, area_lat_max = cell(bits, steps)
            if area_lat_min < min_lat:
                cells[2] = cells[7] = cells[8] = None  # south, south-east, south-west
            if area_lat_max > max_lat:
                cells[1] = cells[5] = cells[6] = None  # north, north-east, north-west
            if area_lon_min < min_lon:
                cells[4] = cells[6] = cells[8] = None  # west, north-west, south-west
            if area_lon_max > max_lon:
                cells[3] = cells[5] = cells[7] = None  # east, north-east, south-east
        return cells

    def distance_if_inside(self, longitude: float, latitude: float) -> float | None:
        """Metres from the centre to a point inside the area, None for a point outside."""
        if self.is_box:
            conversion = self.conversion
            along = EARTH_RADIUS_IN_METERS * abs(self.latitude * _DEG_TO_RAD
                                                 - latitude * _DEG_TO_RAD)
            if along > self.height * conversion / 2:
                return None
            across = distance(longitude, latitude, self.longitude, latitude)
            if across > self.width * conversion / 2:
                return None
            return distance(self.longitude, self.latitude, longitude, latitude)
        metres = distance(self.longitude, self.latitude, longitude, latitude)
        if metres > self.radius * self.conversion:
            return None
        return metres


# A found point: (distance in metres, score, member, longitude, latitude).
_DISTANCE = itemgetter(0)


def search(zset: ZSet, shape: Shape, limit: int = 0) -> list[tuple]:
    """The members of ``zset`` inside ``shape``, in the order Redis finds them (cell by cell,
    by score within a cell); at most ``limit`` of them when it is not 0 (ANY)."""
    found: list[tuple] = []
    previous: tuple[int, int] | None = None
    for index, area in enumerate(shape.cells()):
        if area is None:
            continue
        # Huge areas can repeat a cell; Redis skips a repeat of the last cell searched, but
        # never compares with the centre cell.
        if previous is not None and area == previous:
            continue
        if found and limit and len(found) >= limit:
            break
        bits, step = area
        start, stop = _ranks(zset, bits, step)
        if start < stop:
            _scan(zset, bits, step, start, stop, shape, limit, found)
        if index:
            previous = area
    return found


def _ranks(zset: ZSet, bits: int, step: int) -> tuple[int, int]:
    """Ranks [start, stop) of the scores inside a cell: [bits, bits + 1) aligned to 52 bits."""
    shift = 52 - step * 2
    return zset.score_bounds(
        ScoreRange(float(bits << shift), False, float((bits + 1) << shift), True))


# A cell range holding more candidates than this is split in four before it is walked.
_SPLIT_ABOVE = 24
# Relative and absolute slack (metres) on the lower bounds below, far above rounding error.
_SLACK = 1e-9
_SLACK_METRES = 1e-3


def _scan(zset: ZSet, bits: int, step: int, start: int, stop: int, shape: Shape, limit: int,
          found: list) -> None:
    """Collect the points of one cell (ranks start..stop), skipping quarters of it that lie
    wholly outside the shape. Quarters are visited in score order, so the points are found in
    the order Redis finds them; a skipped quarter held no point Redis would have kept, since a
    point is kept only on its exact distance, which the bounds never exceed."""
    if stop - start > _SPLIT_ABOVE and step < STEP_MAX:
        child_step = step + 1
        for child in range(bits << 2, (bits << 2) + 4):
            if found and limit and len(found) >= limit:
                return
            first, last = _ranks(zset, child, child_step)
            if first >= last or _outside(shape, cell(child, child_step)):
                continue
            _scan(zset, child, child_step, first, last, shape, limit, found)
        return
    if limit and len(found) >= limit:
        return
    pairs = zset.order.islice(start, stop)
    if shape.is_box:
        _collect_in_box(pairs, shape, limit, found)
    else:
        _collect_in_circle(pairs, shape, limit, found)


def _outside(shape: Shape, area: tuple[float, float, float, float]) -> bool:
    """True when no position in the cell ``area`` can be inside ``shape``: lower bounds of the
    haversine terms (the latitude gap alone, and the longitude gap at the cell's latitude of
    smallest cosine), with slack."""
    long_min, long_max, lat_min, lat_max = area
    latitude = shape.latitude
    longitude = shape.longitude
    if lat_min > latitude:
        lat_gap = lat_min - latitude
    elif lat_max < latitude:
        lat_gap = latitude - lat_max
    else:
        lat_gap = 0.0
    if long_min <= longitude <= long_max:
        long_gap = 0.0
    else:
        long_gap = 360.0
        for edge in (long_min, long_max):
            gap = abs(longitude - edge) % 360.0
            long_gap = min(long_gap, gap, 360.0 - gap)
    conversion = shape.conversion
    if shape.is_box:
        lat_limit = shape.height * conversion / 2
        long_limit = shape.width * conversion / 2
        factor = 1.0
    else:
        lat_limit = long_limit = shape.radius * conversion
        factor = math.sqrt(math.cos(latitude * _DEG_TO_RAD))
    lat_limit = lat_limit * (1 + _SLACK) + _SLACK_METRES
    long_limit = long_limit * (1 + _SLACK) + _SLACK_METRES
    if lat_gap and EARTH_RADIUS_IN_METERS * (lat_gap * _DEG_TO_RAD) > lat_limit:
        return True
    if long_gap:
        smallest_cos = min(math.cos(lat_min * _DEG_TO_RAD), math.cos(lat_max * _DEG_TO_RAD))
        if smallest_cos <= 0:
            return False
        if shape.is_box:
            factor = smallest_cos
        else:
            factor *= math.sqrt(smallest_cos)
        sine = factor * math.sin(long_gap * _DEG_TO_RAD / 2)
        if sine >= 1.0:
            return False
        if 2.0 * EARTH_RADIUS_IN_METERS * math.asin(sine) > long_limit:
            return True
    return False


def _collect_in_circle(pairs, shape: Shape, limit: int, found: list) -> None:
    """Append the (score, member) ``pairs`` inside the circle: ``decode`` and ``distance``
    written out in one loop, with the centre's terms computed once."""
    table = _EVEN16
    sin = math.sin
    cos = math.cos
    asin = math.asin
    sqrt = math.sqrt
    nan = math.nan
    lon1r = shape.longitude * _DEG_TO_RAD
    lat1r = shape.latitude * _DEG_TO_RAD
    cos_lat1 = cos(lat1r)
    radius = shape.radius * shape.conversion
    diameter = 2.0 * EARTH_RADIUS_IN_METERS
    append = found.append
    for score, member in pairs:
        if 0.0 <= score < _TWO_53:
            bits = int(score)
        else:
            bits = score_bits(score)
        lat_cell = (table[bits & 0xFFFF] | (table[(bits >> 16) & 0xFFFF] << 8)
                    | (table[(bits >> 32) & 0xFFFF] << 16) | (table[(bits >> 48) & 0xFFFF] << 24))
        bits >>= 1
        long_cell = (table[bits & 0xFFFF] | (table[(bits >> 16) & 0xFFFF] << 8)
                     | (table[(bits >> 32) & 0xFFFF] << 16)
                     | (table[(bits >> 48) & 0xFFFF] << 24))
        longitude = ((LONG_MIN + (long_cell / _CELLS) * _LONG_SCALE)
                     + (LONG_MIN + (((long_cell + 1) & _U32) / _CELLS) * _LONG_SCALE)) / 2
        if longitude > LONG_MAX:
            longitude = LONG_MAX
        elif longitude < LONG_MIN:
            longitude = LONG_MIN
        latitude = ((LAT_MIN + (lat_cell / _CELLS) * _LAT_SCALE)
                    + (LAT_MIN + (((lat_cell + 1) & _U32) / _CELLS) * _LAT_SCALE)) / 2
        if latitude > LAT_MAX:
            latitude = LAT_MAX
        elif latitude < LAT_MIN:
            latitude = LAT_MIN
        lat2r = latitude * _DEG_TO_RAD
        v = sin((longitude * _DEG_TO_RAD - lon1r) / 2)
        if v == 0.0:
            metres = EARTH_RADIUS_IN_METERS * abs(lat2r - lat1r)
        else:
            u = sin((lat2r - lat1r) / 2)
            root = sqrt(u * u + cos_lat1 * cos(lat2r) * v * v)
            metres = diameter * asin(root) if root <= 1.0 else nan
        if metres > radius:
            continue
        append((metres, score, member, longitude, latitude))
        if limit and len(found) >= limit:
            return


def _collect_in_box(pairs, shape: Shape, limit: int, found: list) -> None:
    """Append the (score, member) ``pairs`` inside the box."""
    append = found.append
    for score, member in pairs:
        longitude, latitude = decode(score)
        metres = shape.distance_if_inside(longitude, latitude)
        if metres is None:
            continue
        append((metres, score, member, longitude, latitude))
        if limit and len(found) >= limit:
            return


def sort_found(found: list[tuple], descending: bool, count: int) -> list[tuple]:
    """The first ``count`` points by distance (all when 0), ordered as Redis orders them: a full
    sort is glibc's stable merge sort; a partial one is Redis's pqsort, whose choice among equal
    distances is reproduced by running the same algorithm."""
    if not count or count >= len(found):
        return sorted(found, key=_DISTANCE, reverse=descending)
    distances = [point[0] for point in found]
    if len(set(distances)) == len(distances):
        # Without ties the first ``count`` places have only one possible content.
        return sorted(found, key=_DISTANCE, reverse=descending)[:count]
    items = list(found)
    _pqsort(items, 0, len(items), descending, 0, count - 1)
    return items[:count]


def _compare(a: tuple, b: tuple, descending: bool) -> int:
    # Redis's comparator: greater, equal, else less (so NaN sorts as less).
    if a[0] > b[0]:
        result = 1
    elif a[0] == b[0]:
        result = 0
    else:
        result = -1
    return -result if descending else result


def _median3(items: list, a: int, b: int, c: int, descending: bool) -> int:
    if _compare(items[a], items[b], descending) < 0:
        if _compare(items[b], items[c], descending) < 0:
            return b
        return c if _compare(items[a], items[c], descending) < 0 else a
    if _compare(items[b], items[c], descending) > 0:
        return b
    return a if _compare(items[a], items[c], descending) < 0 else c


def _insertion_sort(items: list, base: int, n: int, descending: bool) -> None:
    for m in range(base + 1, base + n):
        pos = m
        while pos > base and _compare(items[pos - 1], items[pos], descending) > 0:
            items[pos - 1], items[pos] = items[pos], items[pos - 1]
            pos -= 1


def _vecswap(items: list, a: int, b: int, n: int) -> None:
    for offset in range(n):
        items[a + offset], items[b + offset] = items[b + offset], items[a + offset]


def _pqsort(items: list, base: int, n: int, descending: bool, lrange: int, rrange: int) -> None:
    """Redis 7.0's partial quicksort (Bentley-McIlroy, from NetBSD's qsort, with ranges and
    without the switch to insertion sort on an already partitioned input): sorts enough of
    items[base:base+n] that positions lrange..rrange hold what a full sort would put there."""
    while True:
        if n < 7:
            _insertion_sort(items, base, n, descending)
            return
        middle = base + n // 2
        if n > 7:
            low = base
            high = base + n - 1
            if n > 40:
                d = n // 8
                low = _median3(items, low, low + d, low + 2 * d, descending)
                middle = _median3(items, middle - d, middle, middle + d, descending)
                high = _median3(items, high - 2 * d, high - d, high, descending)
            middle = _median3(items, low, middle, high, descending)
        items[base], items[middle] = items[middle], items[base]
        pivot = items[base]  # stays at ``base`` during the partition
        pa = pb = base + 1
        pc = pd = base + n - 1
        while True:
            while pb <= pc:
                result = _compare(items[pb], pivot, descending)
                if result > 0:
                    break
                if result == 0:
                    items[pa], items[pb] = items[pb], items[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                result = _compare(items[pc], pivot, descending)
                if result < 0:
                    break
                if result == 0:
                    items[pc], items[pd] = items[pd], items[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            items[pb], items[pc] = items[pc], items[pb]
            pb += 1
            pc -= 1
        end = base + n
        r = min(pa - base, pb - pa)
        _vecswap(items, base, pb - r, r)
        r = min(pd - pc, end - pd - 1)
        _vecswap(items, pb, end - r, r)
        r = pb - pa
        if r > 1 and not ((lrange < base and rrange < base)
                          or (lrange > base + r - 1 and rrange > base + r - 1)):
            _pqsort(items, base, r, descending, lrange, rrange)
        r = pd - pc
        if r <= 1:
            return
        base = end - r
        n = r
        if (lrange < base and rrange < base) or (lrange > base + r - 1 and rrange > base + r - 1):
            return


# -- text forms ----------------------------------------------------------------------------------


_INT64_MIN = -(1 << 63)


def format_distance(value: float) -> bytes:
    """A distance as Redis 7.0 replies it (fixedpoint_d2string): the value times 10^4 rounded
    to an integer (half to even, as llrint), then written with four decimals. Rounding the
    scaled double can differ from printf's "%.4f" in the last digit."""
    if value == 0:
        return b"0.0000"
    scaled = value * 10000.0
    if math.isfinite(scaled) and -9.223372036854776e18 <= scaled < 9.223372036854776e18:
        units = round(scaled)
    else:
        units = _INT64_MIN  # what the conversion yields for NaN, infinities and overflow
    sign = b""
    if units < 0:
        sign = b"-"
        units = -units
    digits = b"%05d" % units
    return sign + digits[:-4] + b"." + digits[-4:]


def format_coordinate(value: float) -> bytes:
    """A coordinate as Redis's human-friendly long double form: 17 decimals, trailing zeros
    (and a bare point) removed, -0 written 0."""
    text = b"%.17f" % value
    text = text.rstrip(b"0")
    if text.endswith(b"."):
        text = text[:-1]
    if text == b"-0":
        text = b"0"
    return text


__all__ = [
    "EARTH_RADIUS_IN_METERS",
    "LAT_MAX",
    "LAT_MIN",
    "LONG_MAX",
    "LONG_MIN",
    "STEP_MAX",
    "UNITS",
    "Shape",
    "cell",
    "decode",
    "distance",
    "encode",
    "estimate_steps",
    "format_coordinate",
    "format_distance",
    "geohash_string",
    "hash_integer",
    "neighbours",
    "score_bits",
    "score_of",
    "search",
    "sort_found",
]
