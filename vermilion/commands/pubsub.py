"""Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB, and the
Vermilion extensions CHANNELS and NUMSUB (see docs/extensions.md).

The subscription tables and message delivery live in ``vermilion.pubsub`` (``server.pubsub``).
A subscribe command's reply is the run of confirmation pushes, one per channel, as Redis sends
them (inside EXEC they follow the array header as they are, as in Redis).
"""

from __future__ import annotations

from .. import errors, info
from ..errors import RedisError
from ..registry import command
from ..resp.encode import bulk, integer
from .connection import RESET_HOOKS, help_reply


# -- subscribing ---------------------------------------------------------------------------------


def _deny_in_exec(client, name: str, even_in_multi: bool) -> None:
    # Inside EXEC (or a script) a command must produce exactly one reply: Redis refuses
    # SSUBSCRIBE there, and (P)SUBSCRIBE only outside a transaction, for compatibility.
    if client.server.blocking.deferred and (even_in_multi or client.multi is None):
        raise RedisError(errors.deny_blocking_subscribe(name))


@command("subscribe")
def subscribe(client, argv):
    _deny_in_exec(client, "SUBSCRIBE", False)
    pubsub = client.server.pubsub
    return b"".join([pubsub.subscribe(client, channel) for channel in argv[1:]])


@command("psubscribe")
def psubscribe(client, argv):
    _deny_in_exec(client, "PSUBSCRIBE", False)
    pubsub = client.server.pubsub
    return b"".join([pubsub.psubscribe(client, pattern) for pattern in argv[1:]])


@command("ssubscribe")
def ssubscribe(client, argv):
    _deny_in_exec(client, "SSUBSCRIBE", True)
    pubsub = client.server.pubsub
    return b"".join([pubsub.subscribe(client, channel, True) for channel in argv[1:]])


@command("unsubscribe")
def unsubscribe(client, argv):
    return client.server.pubsub.unsubscribe(client, argv[1:])


@command("punsubscribe")
def punsubscribe(client, argv):
    return client.server.pubsub.punsubscribe(client, argv[1:])


@command("sunsubscribe")
def sunsubscribe(client, argv):
    return client.server.pubsub.unsubscribe(client, argv[1:], True)


# -- publishing ----------------------------------------------------------------------------------


@command("publish")
def publish(client, argv):
    return integer(client.server.pubsub.publish(argv[1], argv[2]))


@command("spublish")
def spublish(client, argv):
    return integer(client.server.pubsub.spublish(argv[1], argv[2]))


# -- PUBSUB introspection --------------------------------------------------------------------------


def _channel_list(client, argv, shard: bool) -> bytes:
    if len(argv) > 3:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    pattern = argv[2] if len(argv) == 3 else None
    names = client.server.pubsub.channel_names(pattern, shard)
    return b"*%d\r\n" % len(names) + b"".join([bulk(name) for name in names])


def _subscriber_counts(client, channels: list[bytes], shard: bool) -> bytes:
    count = client.server.pubsub.subscriber_count
    parts = [b"*%d\r\n" % (2 * len(channels))]
    for channel in channels:
        parts.append(bulk(channel))
        parts.append(integer(count(channel, shard)))
    return b"".join(parts)


@command("pubsub|channels")
def pubsub_channels(client, argv):
    return _channel_list(client, argv, False)


@command("pubsub|shardchannels")
def pubsub_shardchannels(client, argv):
    return _channel_list(client, argv, True)


@command("pubsub|numsub")
def pubsub_numsub(client, argv):
    return _subscriber_counts(client, argv[2:], False)


@command("pubsub|shardnumsub")
def pubsub_shardnumsub(client, argv):
    return _subscriber_counts(client, argv[2:], True)


@command("pubsub|numpat")
def pubsub_numpat(client, argv):
    return integer(len(client.server.pubsub.patterns))


_PUBSUB_HELP = help_reply(b"pubsub", [
    "CHANNELS [<pattern>]",
    "    List the channels that have subscribers, those matching <pattern> if given.",
    "NUMPAT",
    "    Count the distinct patterns clients are subscribed to.",
    "NUMSUB [<channel> ...]",
    "    Count the subscribers of each <channel> (pattern subscriptions not included).",
    "SHARDCHANNELS [<pattern>]",
    "    List the shard channels that have subscribers, those matching <pattern> if given.",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Count the subscribers of each shard channel.",
])


@command("pubsub|help")
def pubsub_help(client, argv):
    return _PUBSUB_HELP


# -- Vermilion extensions: the words the user's notes use ----------------------------------------


@command("channels")
def channels(client, argv):
    """CHANNELS [pattern]: PUBSUB CHANNELS under the name the notes use."""
    if len(argv) > 2:
        raise RedisError(errors.wrong_arity("channels"))
    pattern = argv[1] if len(argv) == 2 else None
    names = client.server.pubsub.channel_names(pattern)
    return b"*%d\r\n" % len(names) + b"".join([bulk(name) for name in names])


@command("numsub")
def numsub(client, argv):
    """NUMSUB [channel ...]: PUBSUB NUMSUB under the name the notes use."""
    return _subscriber_counts(client, argv[1:], False)


# -- INFO, CLIENT LIST, RESET ------------------------------------------------------------------------


def _subscription_count(kind: str):
    def count(client) -> int:
        subs = client.subscriptions
        return 0 if subs is None else len(getattr(subs, kind))

    return count


info.GAUGES["pubsub_channels"] = lambda server: len(server.pubsub.channels)
info.GAUGES["pubsub_patterns"] = lambda server: len(server.pubsub.patterns)
info.GAUGES["pubsubshard_channels"] = lambda server: len(server.pubsub.shard_channels)
info.CLIENT_GAUGES["sub"] = _subscription_count("channels")
info.CLIENT_GAUGES["psub"] = _subscription_count("patterns")
info.CLIENT_GAUGES["ssub"] = _subscription_count("shard_channels")

# CLIENT LIST flag P; other subsystems may provide letters too, so chain to what is there.
_other_flags = info.CLIENT_GAUGES.get("flags")


def _client_flags(client) -> str:
    letters = _other_flags(client) if _other_flags is not None else ""
    return letters + "P" if client.subscriptions is not None else letters


info.CLIENT_GAUGES["flags"] = _client_flags


def _reset_subscriptions(client) -> None:
    client.server.pubsub.forget(client)


RESET_HOOKS.append(_reset_subscriptions)
