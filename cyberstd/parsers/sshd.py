"""OpenSSH server configuration (sshd_config(5)), with its Include files and Match blocks."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source
from cyberstd.parsers.sshd_auth import auth_paths

MAX_DEPTH = 16
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_LINE = re.compile(r"\s*([^\s=]+)(?:\s*=\s*|\s+|$)(.*)", re.DOTALL)
_GLOB = re.compile(r"[*?\[]")
_DROP_IN = "sshd_config.d/"
# Keywords whose every line adds to a list; each of their lines is one value.
_REPEAT_LINES = frozenset({"hostkey", "hostcertificate", "listenaddress", "port", "subsystem"})
# Keywords whose every line adds to a list; each word is one value.
_REPEAT_WORDS = frozenset({"acceptenv", "allowusers", "denyusers", "allowgroups", "denygroups"})
# Keywords sshd(8) knows (current, deprecated and distribution ones): a file with settings but
# none of these is some other format. Unknown keywords are kept, as newer sshd add keywords.
_KNOWN_WORDS = """acceptenv addressfamily allowagentforwarding allowgroups allowstreamlocalforwarding
    allowtcpforwarding allowusers authenticationmethods authorizedkeyscommand
    authorizedkeyscommanduser authorizedkeysfile authorizedprincipalscommand
    authorizedprincipalscommanduser authorizedprincipalsfile banner casignaturealgorithms
    challengeresponseauthentication channeltimeout chrootdirectory ciphers clientalivecountmax
    clientaliveinterval compression denygroups denyusers disableforwarding exposeauthinfo
    fingerprinthash forcecommand gatewayports gssapiauthentication gssapicleanupcredentials
    gssapikeyexchange gssapistrictacceptorcheck gssapistorecredentialsonrekey
    hostbasedacceptedalgorithms hostbasedacceptedkeytypes hostbasedauthentication
    hostbasedusesnamefrompacketonly hostcertificate hostkey hostkeyagent hostkeyalgorithms
    ignorerhosts ignoreuserknownhosts include ipqos kbdinteractiveauthentication
    kerberosauthentication kerberosgetafstoken kerberosorlocalpasswd kerberosticketcleanup
    kexalgorithms keyregenerationinterval listenaddress logingracetime loglevel logverbose macs
    match maxauthtries maxsessions maxstartups modulifile passwordauthentication
    permitemptypasswords permitlisten permitopen permitrootlogin permittty permittunnel
    permituserenvironment permituserrc persourcemaxstartups persourcenetblocksize
    persourcepenalties persourcepenaltyexemptlist pidfile port printlastlog printmotd protocol
    pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication pubkeyauthoptions
    rdomain refuseconnection rekeylimit requiredrsasize revokedkeys rhostsrsaauthentication
    rsaauthentication securitykeyprovider serverkeybits setenv sshdauthpath sshdsessionpath
    streamlocalbindmask streamlocalbindunlink strictmodes subsystem syslogfacility tcpkeepalive
    trustedusercakeys unusedconnectiontimeout usedns uselogin usepam useprivilegeseparation
    versionaddendum x11displayoffset x11forwarding x11uselocalhost xauthlocation"""
_KNOWN = frozenset(_KNOWN_WORDS.split())


def _words(text: str, file: str, line: int) -> list[str]:
    """The arguments of a line as sshd splits them: quotes, backslash escapes, `#` comments."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\f\v":
            i += 1
        if i >= n or text[i] == "#":
            break
        word: list[str] = []
        quote = ""
        while i < n and (quote or text[i] not in " \t\r\f\v"):
            ch = text[i]
            nxt = text[i + 1] if i + 1 < n else ""
            if ch == "\\" and nxt and (nxt in "'\"\\" or (not quote and nxt == " ")):
                word.append(nxt)
                i += 2
                continue
            if not quote and ch in "'\"":
                quote = ch
            elif quote and ch == quote:
                quote = ""
            else:
                word.append(ch)
            i += 1
        if quote:
            raise ParseError(file, "a quoted argument is never closed", line)
        words.append("".join(word))
    return words


@dataclass
class _Reader:
    """Reads one sshd_config and the files it includes into one tree."""

    root: Source
    matches: list[Node]

    def read(self, source: Source, settings: dict[str, Node], chain: tuple[Path, ...]) -> None:
        """Add the settings of one file to `settings` (or to the Match blocks it opens)."""
        file = source.display
        for number, raw in enumerate(source.text.splitlines(), 1):
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            m = _LINE.fullmatch(stripped)
            if m is None or not _KEYWORD.fullmatch(m.group(1)):
                raise ParseError(file, "line does not start with an sshd_config keyword", number)
            keyword = m.group(1).lower()
            args = _words(m.group(2), file, number)
            if not args and keyword not in _KNOWN:
                raise ParseError(file, "not an sshd_config line: unknown keyword, no value", number)
            if not args:
                raise ParseError(file, f"{m.group(1)} has no value", number)
            if keyword == "match":
                settings = self.open_match(" ".join(args), file, number)
            elif keyword == "include":
                for arg in args:
                    for inc in self.included(source, arg, number, chain):
                        self.read(inc, settings, (*chain, inc.path.resolve()))
            else:
                _store(settings, keyword, args, file, number)

    def open_match(self, criteria: str, file: str, line: int) -> dict[str, Node]:
        """Start a Match block; the lines up to the next Match (or end of file) fill it."""
        settings: dict[str, Node] = {}
        block = {"criteria": Node(criteria, file, line), "settings": Node(settings, file, line)}
        self.matches.append(Node(block, file, line))
        return settings

    def included(
        self, source: Source, arg: str, line: int, chain: tuple[Path, ...]
    ) -> list[Source]:
        """The files one Include argument names, read from the export's folder."""
        file = source.display
        if len(chain) > MAX_DEPTH:
            raise ParseError(file, f"Include nested more than {MAX_DEPTH} deep (a loop?)", line)
        if not _on_disk(source.path):
            raise ParseError(file, "Include can only be followed in a file on disk", line)
        base, rel = source, arg
        if arg.startswith("/"):
            base, rel = self.root, _map_absolute(self.root, arg, line)
        if _GLOB.search(rel) and not (base.path.parent / rel).parent.is_dir():
            # drop-ins override the main file (the first value wins, and Debian includes them
            # first): without them nothing in it can be trusted to hold
            folder = str(Path(rel).parent)
            raise ParseError(
                file,
                f"Include {arg} names drop-in files, but there is no {folder}/ folder next to "
                f"the export; drop-ins can change every setting: copy the folder (an empty one "
                f"if the server has none) next to the export",
                line,
            )
        try:
            names = _expand(base.path.parent, rel)
            if names is None:
                raise ParseError(file, f"included file {arg!r} not found in the export", line)
            found = [base.related(name) for name in names]
            looped = any(inc.path.resolve() in chain for inc in found)
        except (OSError, RuntimeError):
            raise ParseError(file, f"included file {arg!r} cannot be read", line) from None
        except ParseError as exc:
            if exc.line is not None:
                raise
            raise ParseError(file, f"included file {arg!r}: {exc.detail}", line) from None
        if looped:
            raise ParseError(file, f"Include loop: {arg!r} includes a file again", line)
        return found


def _on_disk(path: Path) -> bool:
    """Whether a source was read from a file (text held in memory cannot Include)."""
    try:
        return path.is_file()
    except (OSError, RuntimeError):
        return False


def _expand(folder: Path, rel: str) -> list[str] | None:
    """The names an Include argument matches in a folder (sorted, as glob(3) gives them);
    None when it names one file that is missing."""
    if _GLOB.search(rel):
        return sorted(glob.glob(rel, root_dir=folder))
    target = (folder / rel).resolve()
    inside = target.is_relative_to(folder.resolve())
    return [rel] if target.exists() or not inside else None


def _map_absolute(root: Source, arg: str, line: int) -> str:
    """An absolute Include path as a path in the export's folder (drop-ins in sshd_config.d)."""
    cut = arg.rfind(_DROP_IN)
    rest = arg[cut + len(_DROP_IN) :] if cut >= 0 else ""
    if not rest:
        raise ParseError(
            root.display, f"cannot map Include {arg!r} into the export (only sshd_config.d)", line
        )
    # Always into sshd_config.d/ next to the export: mapping onto the export's own folder would
    # pull in whatever else lies there (another server's configuration).
    return _DROP_IN + rest


def _store(settings: dict[str, Node], keyword: str, args: list[str], file: str, line: int) -> None:
    """Keep a setting: the first value wins, except for keywords whose lines add up."""
    if keyword in _REPEAT_LINES or keyword in _REPEAT_WORDS:
        items = args if keyword in _REPEAT_WORDS else [" ".join(args)]
        found = settings.setdefault(keyword, Node([], file, line))
        found.value.extend(Node(item, file, line) for item in items)
    elif keyword not in settings:
        settings[keyword] = Node(" ".join(args), file, line)


@parser("sshd_config")
def parse_sshd(source: Source) -> Node:
    """`{keyword: value}` with lowercased keywords; the first value of a keyword wins.

    HostKey, HostCertificate, ListenAddress, Port and Subsystem give a list with one value per
    line; AcceptEnv and Allow/DenyUsers/Groups a list with one value per word. Match blocks
    become `match: [{criteria, settings}]` (only when there are any). Include files are read
    in place (globs in the including file's folder; an absolute `/etc/ssh/sshd_config.d/x` as
    `sshd_config.d/x` in the export's folder; a glob there that matches nothing adds nothing); their
    nodes carry their own file.

    `auth-paths` lists every way to complete a login (sshd_auth.py): `{way, methods, via,
    scope, combined}` for each list of AuthenticationMethods, or each method switched on when
    there is none, outside Match blocks, in each Match block and in Match blocks combined.
    """
    file = source.display
    if not source.text.strip():
        raise ParseError(file, "empty file")
    top: dict[str, Node] = {}
    reader = _Reader(source, [])
    chain = (source.path.resolve(),) if _on_disk(source.path) else ()
    reader.read(source, top, chain)
    keywords = set(top).union(*(m.value["settings"].value for m in reader.matches))
    if keywords and not keywords & _KNOWN:
        raise ParseError(file, "not an sshd_config: none of its keywords is an sshd keyword")
    for settings in [top, *(m.value["settings"].value for m in reader.matches)]:
        _alias(settings)
    paths = auth_paths(top, reader.matches, file)
    if reader.matches:
        first = reader.matches[0]
        top["match"] = Node(reader.matches, first.file, first.line)
    if paths:
        top["auth-paths"] = Node(paths, file, 1)
    return Node(top, file, 1)


# Deprecated keywords that sshd reads as another (the first value still wins).
_ALIASES = {"challengeresponseauthentication": "kbdinteractiveauthentication"}


def _alias(settings: dict[str, Node]) -> None:
    """sshd reads the old keyword as the new one: whichever comes first holds."""
    for old, new in _ALIASES.items():
        if old in settings and (new not in settings or _before(settings[old], settings[new])):
            settings[new] = settings[old]


def _before(a: Node, b: Node) -> bool:
    """Whether a setting was read before another (same file: by line; else unknown, no)."""
    return a.file == b.file and a.line is not None and b.line is not None and a.line < b.line
