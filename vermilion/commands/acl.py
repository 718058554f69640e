"""ACL: users, their rules, the ACL log and the ACL file (state in vermilion.acl)."""

from __future__ import annotations

import secrets
import time

from .. import errors
from ..acl import check as acl_check
from ..acl import table
from ..acl.state import NO_ACL_FILE, SAVE_FAILED
from ..acl.user import RuleError, has_spaces, merge_selector_args
from ..errors import RedisError
from ..registry import command, lookup
from ..resp.encode import OK, array, bulk, integer, map_, null, set_
from .connection import help_reply, parse_int64

_GENPASS_MAX_BITS = 4096


def _text(value: bytes) -> str:
    # Redis formats these with %s: the text ends at the first NUL byte.
    return value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


@command("acl|setuser")
def acl_setuser(client, argv):
    acl = client.server.acl
    name = argv[2]
    if has_spaces(name):
        raise RedisError("ERR Usernames can't contain spaces or null characters")
    ops, open_at = merge_selector_args(argv[3:])
    if ops is None:
        raise RedisError(
            f"ERR Unmatched parenthesis in acl selector starting at '{_text(argv[open_at + 3])}'."
        )
    existing = acl.users.get(name)
    staged = existing.copy() if existing is not None else acl.new_user(name)
    all_channels = acl.all_channels_default()
    for op in ops:
        try:
            staged.apply(op, all_channels)
        except RuleError as exc:
            raise RedisError(f"ERR Error in ACL SETUSER modifier '{_text(op)}': {exc.args[0]}") from None
    if existing is None:
        acl.users[name] = staged
    else:
        acl.kill_pubsub_clients_if_needed(staged, existing)
        existing.assign(staged)
    acl.users_changed()
    return OK


@command("acl|deluser")
def acl_deluser(client, argv):
    acl = client.server.acl
    names = argv[2:]
    if b"default" in names:
        raise RedisError("ERR The 'default' user cannot be removed")
    deleted = set()
    for name in names:
        if acl.users.pop(name, None) is not None:
            deleted.add(name)
    if deleted:
        acl.kill_clients_of(deleted, client)
        acl.users_changed()
    return integer(len(deleted))


def _selector_fields(selector) -> list[tuple[bytes, bytes]]:
    return [
        (b"$8\r\ncommands\r\n", bulk(selector.describe_commands())),
        (b"$4\r\nkeys\r\n", bulk(selector.describe_keys())),
        (b"$8\r\nchannels\r\n", bulk(selector.describe_channels())),
    ]


@command("acl|getuser")
def acl_getuser(client, argv):
    user = client.server.acl.users.get(argv[2])
    resp3 = client.resp3
    if user is None:
        return null(resp3)
    pairs = [
        (b"$5\r\nflags\r\n", set_([bulk(flag.encode()) for flag in user.flag_names()], resp3)),
        (b"$9\r\npasswords\r\n", array([bulk(digest.encode()) for digest in user.passwords])),
    ]
    pairs.extend(_selector_fields(user.root))
    selectors = [map_(_selector_fields(selector), resp3) for selector in user.selectors[1:]]
    pairs.append((b"$9\r\nselectors\r\n", array(selectors)))
    return map_(pairs, resp3)


@command("acl|list")
def acl_list(client, argv):
    return array([bulk(line) for line in client.server.acl.describe_all()])


@command("acl|users")
def acl_users(client, argv):
    return array([bulk(name) for name in sorted(client.server.acl.users)])


@command("acl|whoami")
def acl_whoami(client, argv):
    return bulk(client.user.encode("latin-1"))


@command("acl|cat")
def acl_cat(client, argv):
    if len(argv) == 2:
        return array([bulk(name.encode()) for name in table.CATEGORIES])
    if len(argv) != 3:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    category = table.category_of(argv[2])
    if category is None:
        raise RedisError(f"ERR Unknown category '{_text(argv[2])[:128]}'")
    return array([bulk(cmd.full_name.encode()) for cmd in table.CATEGORY_COMMANDS[category]])


@command("acl|genpass")
def acl_genpass(client, argv):
    bits = 256
    if len(argv) == 3:
        bits = parse_int64(argv[2])
        if bits is None:
            raise RedisError(errors.NOT_INTEGER)
    elif len(argv) > 3:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    if bits <= 0 or bits > _GENPASS_MAX_BITS:
        raise RedisError(
            "ERR ACL GENPASS argument must be the number of bits for the output password, "
            f"a positive number up to {_GENPASS_MAX_BITS}"
        )
    chars = (bits + 3) // 4
    return bulk(secrets.token_hex((chars + 1) // 2)[:chars].encode())


@command("acl|log")
def acl_log(client, argv):
    acl = client.server.acl
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = parse_int64(argv[2])
        if count is None:
            raise RedisError(errors.NOT_INTEGER)
        count = max(count, 0)
    elif len(argv) > 3:
        raise RedisError(errors.subcommand_syntax(argv[1], argv[0]))
    now_ms = int(time.time() * 1000)
    return array([entry.encode(now_ms, client.resp3) for entry in acl.log[:count]])


@command("acl|dryrun")
def acl_dryrun(client, argv):
    user = client.server.acl.users.get(argv[2])
    if user is None:
        raise RedisError(f"ERR User '{_text(argv[2])}' not found")
    args = argv[3:]
    cmd = lookup(args[0])
    if cmd is not None and cmd.subcommands is not None and (cmd.handler is None or len(args) > 1):
        cmd = cmd.subcommands.get(args[1].lower()) if len(args) > 1 else cmd
    if cmd is None:
        raise RedisError(f"ERR Command '{_text(args[0])}' not found")
    if (cmd.arity > 0 and cmd.arity != len(args)) or len(args) < -cmd.arity:
        raise RedisError(errors.wrong_arity(cmd.full_name))
    result, position = acl_check.check(user, cmd, args)
    if result == acl_check.DENIED_CMD:
        return bulk(f"This user has no permissions to run the '{cmd.full_name}' command".encode())
    if result == acl_check.DENIED_KEY:
        return bulk(b"This user has no permissions to access the '%s' key" % args[position].split(b"\0")[0])
    if result == acl_check.DENIED_CHANNEL:
        return bulk(b"This user has no permissions to access the '%s' channel" % args[position].split(b"\0")[0])
    return OK


@command("acl|load")
def acl_load(client, argv):
    server = client.server
    path = server.config.aclfile
    if not path:
        raise RedisError(NO_ACL_FILE)
    problems = server.acl.load_file(path, client)
    if problems is not None:
        raise RedisError("ERR " + problems)
    return OK


@command("acl|save")
def acl_save(client, argv):
    server = client.server
    path = server.config.aclfile
    if not path:
        raise RedisError(NO_ACL_FILE)
    if not server.acl.save_file(path):
        raise RedisError(SAVE_FAILED)
    return OK


_ACL_HELP = [
    "CAT [<category>]",
    "    List the command categories, or the commands in <category>.",
    "DELUSER <username> [<username> ...]",
    "    Delete users (and disconnect the connections authenticated as them).",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Tell whether the user may run the command, without running it.",
    "GETUSER <username>",
    "    Describe a user's flags, passwords, commands, keys, channels and selectors.",
    "GENPASS [<bits>]",
    "    Make a random password of 256 bits, or of <bits> bits.",
    "LIST",
    "    Describe every user as a line of the ACL file.",
    "LOAD",
    "    Replace the users with those of the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the latest denied commands and failed logins, or clear them.",
    "SAVE",
    "    Write the users to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create a user or change its rules.",
    "USERS",
    "    List the user names.",
    "WHOAMI",
    "    Name the user this connection is authenticated as.",
]
_ACL_HELP_REPLY = help_reply(b"acl", _ACL_HELP)


@command("acl|help")
def acl_help(client, argv):
    return _ACL_HELP_REPLY
