"""An HDR histogram with the bucket layout and iterators of the C hdr_histogram library.

redis-benchmark records latencies (microseconds) into one, and its report walks it with the
library's percentile and linear iterators, printing each bucket's "highest equivalent value".
The same layout gives the same printed values and the same set of report lines.

Latencies are collected as a plain ``{microseconds: count}`` dict while the benchmark runs (cheap
in the hot path) and loaded into the histogram for the report.
"""

from __future__ import annotations

import math


class HdrHistogram:
    def __init__(self, lowest: int, highest: int, significant_figures: int) -> None:
        largest_single_unit = 2 * 10**significant_figures
        sub_bucket_count_magnitude = math.ceil(math.log2(largest_single_unit))
        self.sub_bucket_half_count_magnitude = max(sub_bucket_count_magnitude, 1) - 1
        self.unit_magnitude = int(math.floor(math.log2(lowest)))
        self.sub_bucket_count = 1 << (self.sub_bucket_half_count_magnitude + 1)
        self.sub_bucket_half_count = self.sub_bucket_count // 2
        self.sub_bucket_mask = (self.sub_bucket_count - 1) << self.unit_magnitude
        smallest_untrackable = self.sub_bucket_count << self.unit_magnitude
        buckets = 1
        while smallest_untrackable <= highest:
            smallest_untrackable <<= 1
            buckets += 1
        self.bucket_count = buckets
        self.counts_len = (buckets + 1) * self.sub_bucket_half_count
        self.counts = [0] * self.counts_len
        self.total_count = 0
        self.min_value = 2**63 - 1
        self.max_value = 0

    # -- the bucket arithmetic ----------------------------------------------------------------

    def _bucket_index(self, value: int) -> int:
        pow2ceiling = (value | self.sub_bucket_mask).bit_length()
        return pow2ceiling - self.unit_magnitude - (self.sub_bucket_half_count_magnitude + 1)

    def _sub_bucket_index(self, value: int, bucket_index: int) -> int:
        return value >> (bucket_index + self.unit_magnitude)

    def counts_index_for(self, value: int) -> int:
        bucket_index = self._bucket_index(value)
        sub_bucket_index = self._sub_bucket_index(value, bucket_index)
        bucket_base = (bucket_index + 1) << self.sub_bucket_half_count_magnitude
        return bucket_base + (sub_bucket_index - self.sub_bucket_half_count)

    def value_at_index(self, index: int) -> int:
        bucket_index = (index >> self.sub_bucket_half_count_magnitude) - 1
        sub_bucket_index = (index & (self.sub_bucket_half_count - 1)) + self.sub_bucket_half_count
        if bucket_index < 0:
            sub_bucket_index -= self.sub_bucket_half_count
            bucket_index = 0
        return sub_bucket_index << (bucket_index + self.unit_magnitude)

    def _size_of_equivalent_range(self, value: int) -> int:
        bucket_index = self._bucket_index(value)
        sub_bucket_index = self._sub_bucket_index(value, bucket_index)
        adjusted = bucket_index + 1 if sub_bucket_index >= self.sub_bucket_count else bucket_index
        return 1 << (self.unit_magnitude + adjusted)

    def lowest_equivalent(self, value: int) -> int:
        bucket_index = self._bucket_index(value)
        sub_bucket_index = self._sub_bucket_index(value, bucket_index)
        return sub_bucket_index << (bucket_index + self.unit_magnitude)

    def highest_equivalent(self, value: int) -> int:
        return self.lowest_equivalent(value) + self._size_of_equivalent_range(value) - 1

    def median_equivalent(self, value: int) -> int:
        return self.lowest_equivalent(value) + (self._size_of_equivalent_range(value) >> 1)

    # -- recording and statistics ---------------------------------------------------------------

    def record(self, value: int, count: int = 1) -> bool:
        if value < 0:
            return False
        index = self.counts_index_for(value)
        if index < 0 or index >= self.counts_len:
            return False
        self.counts[index] += count
        self.total_count += count
        if value and value < self.min_value:
            self.min_value = value
        if value > self.max_value:
            self.max_value = value
        return True

    def record_counts(self, samples: dict[int, int], clamp: int) -> None:
        for value, count in samples.items():
            self.record(min(value, clamp), count)

    def min(self) -> int:
        if self.counts[0] > 0:
            return 0
        if self.min_value == 2**63 - 1:
            return self.min_value
        return self.lowest_equivalent(self.min_value)

    def max(self) -> int:
        return 0 if self.max_value == 0 else self.highest_equivalent(self.max_value)

    def mean(self) -> float:
        if self.total_count == 0:
            return math.nan
        total = 0
        for index, count in enumerate(self.counts):
            if count:
                total += count * self.median_equivalent(self.value_at_index(index))
        return total / self.total_count

    def value_at_percentile(self, percentile: float) -> int:
        requested = min(percentile, 100.0)
        wanted = int((requested / 100) * self.total_count + 0.5)
        wanted = max(wanted, 1)
        running = 0
        for index, count in enumerate(self.counts):
            running += count
            if running >= wanted:
                return self.highest_equivalent(self.value_at_index(index))
        return 0

    # -- the library's iterators: (highest equivalent value, cumulative count[, percentile]) ----

    def percentiles(self, ticks_per_half_distance: int = 1):
        """Yield (percentile, highest equivalent value, cumulative count)."""
        total = self.total_count
        index = -1
        count = cumulative = 0
        value = highest = 0
        percentile_to = 0.0
        seen_last = False

        def move_next() -> bool:
            nonlocal index, count, cumulative, value, highest
            if cumulative >= total or index + 1 >= self.counts_len:
                return False
            index += 1
            count = self.counts[index]
            cumulative += count
            value = self.value_at_index(index)
            highest = self.highest_equivalent(value)
            return True

        while True:
            if cumulative >= total:
                if seen_last:
                    return
                seen_last = True
                yield 100.0, highest, cumulative
                continue
            if index == -1 and not move_next():
                return
            while True:
                current = 100.0 * cumulative / total
                if count != 0 and percentile_to <= current:
                    reported = percentile_to
                    half = 2 ** (int(math.log(100 / (100.0 - percentile_to)) / math.log(2)) + 1)
                    percentile_to += 100.0 / (ticks_per_half_distance * half)
                    yield reported, highest, cumulative
                    break
                if not move_next():
                    break

    def linear(self, units_per_bucket: int, widen_after: int | None = None, widened_units: int = 0):
        """Yield (highest equivalent value, cumulative count) per reporting step; the step grows
        to ``widened_units`` once a reported value exceeds ``widen_after``."""
        total = self.total_count
        index = -1
        count = cumulative = 0
        value = highest = 0
        units = units_per_bucket
        next_level = units_per_bucket
        next_level_lowest = self.lowest_equivalent(next_level)

        def move_next() -> bool:
            nonlocal index, count, cumulative, value, highest
            index += 1
            if index >= self.counts_len:
                return False
            count = self.counts[index]
            cumulative += count
            value = self.value_at_index(index)
            highest = self.highest_equivalent(value)
            return True

        def next_value_beyond(level_lowest: int) -> bool:
            if index >= self.counts_len:
                return False
            return self.value_at_index(index + 1) > level_lowest

        while cumulative < total or next_value_beyond(next_level_lowest):
            while True:
                if value >= next_level_lowest:
                    next_level += units
                    next_level_lowest = self.lowest_equivalent(next_level)
                    break
                if not move_next():
                    break
            yield highest, cumulative
            if widen_after is not None and highest > widen_after:
                units = widened_units
