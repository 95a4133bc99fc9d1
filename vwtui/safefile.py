"""Writing files safely: the private state directory, appends, and whole-file replacement.

Every file vwtui writes goes through here. The state directory (`$XDG_STATE_HOME/vwtui`) holds
the recovery journals, the recorded baselines and the sign-off log: what a recovery trusts to
decide what to create, swap and delete. So it is the user's own (0700), never world-writable,
never a symbolic link, and its files are 0600. No write follows a symbolic link: a link planted
where a journal or a baseline goes would make vwtui write (or truncate) whatever it points at.

A team may instead configure a shared state directory (`state.dir`, given to every vwtui as
`$VWTUI_STATE_DIR`): a directory on the bastion where the journals live so that observers
(`vwtui watch`) of any user of the team's group can follow a run. There the policy is the
shared one: group-readable (and group-writable, when the team's directory is) is allowed, a
world-writable directory or a symbolic link is still refused, the world's bits are taken off
what vwtui owns, and files are 0640. Only the configured directory and what is below it get
this policy; the default XDG directory stays private.

Pure standard library. Policy refusals are `UnsafePathError` (one sentence naming the path and
what to do); I/O failures stay `OSError`, for the caller to turn into its own error.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from pathlib import Path

from vwtui.errors import UnsafePathError

DIR_MODE = 0o700
FILE_MODE = 0o600
# In the configured shared state directory: readable by the team's group, never the world's.
SHARED_FILE_MODE = 0o640
SHARED_DIR_ENV = "VWTUI_STATE_DIR"

# Append-only files (journals, the sign-off log): never through a link, never inherited by a
# child process; readable too, to find a torn last line before appending. O_NONBLOCK only so
# that a FIFO or device planted in the file's place cannot hang the open; it is refused, and
# the flag cleared once the file is known to be a regular one.
_APPEND_FLAGS = (os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                 | os.O_NONBLOCK)
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def state_dir() -> Path:
    """The shared state directory when one is configured (`$VWTUI_STATE_DIR`, from
    `state.dir`), else `$XDG_STATE_HOME/vwtui`, default `~/.local/state/vwtui` (the path only;
    nothing is created: see `private_dir`)."""
    return shared_dir() or _xdg_state_dir()


def _xdg_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vwtui"


def shared_dir() -> Path | None:
    """The configured shared state directory (absolute), or None: the private XDG one."""
    value = os.environ.get(SHARED_DIR_ENV, "").strip()
    if not value:
        return None
    return Path(os.path.abspath(os.path.expanduser(value)))


def _shared_root_of(path: Path) -> Path | None:
    """The shared directory `path` is (or is under), or None: the private policy applies."""
    root = shared_dir()
    if root is None:
        return None
    path = Path(os.path.abspath(path))
    return root if path == root or root in path.parents else None


def file_mode(path: Path) -> int:
    """The mode vwtui gives a file it writes at `path`: 0640 in the shared state directory,
    0600 anywhere else."""
    return SHARED_FILE_MODE if _shared_root_of(path.parent) is not None else FILE_MODE


def private_dir(path: Path, *, base: Path | None = None) -> Path:
    """Make sure `path` (and every directory from `base` down to it, when given) is a private
    directory of this user: created 0700 when missing, else checked.

    Refused (UnsafePathError): a symbolic link, not a directory, owned by another user, or
    world-writable. A directory of ours that is merely readable by others (an older vwtui made
    it 0755) is tightened to 0700. OSError when it cannot be created.

    In the configured shared state directory (and below it) the shared policy applies instead
    (`_check_shared_dir`): the team's group may read it, nobody else.
    """
    chain = [path]
    if base is not None and path != base and base in path.parents:
        chain = [base, *[p for p in reversed(path.parents) if base in p.parents], path]
    root = _shared_root_of(path)
    if root is not None:
        # From the shared directory itself down: each level is checked as the team's.
        chain = [root, *[p for p in reversed(Path(os.path.abspath(path)).parents)
                         if root in p.parents], Path(os.path.abspath(path))]
        if chain[-1] == root:
            chain = [root]
        for folder in chain:
            _make_dirs(folder, _shared_new_dir_mode(root))
            _check_shared_dir(folder, is_root=folder == root)
        return path
    for folder in chain:
        _make_dirs(folder)
        _check_dir(folder)
    return path


def ensure_state_dir(path: Path | None = None) -> Path:
    """The state directory, created or checked private (see `private_dir`)."""
    return private_dir(path or state_dir())


def open_append(path: Path) -> int:
    """A file descriptor open for appending to `path` (created 0600, 0640 in the shared state
    directory), never through a symbolic link. The caller closes it. A file of ours with
    another mode is given that one."""
    wanted = file_mode(path)
    try:
        fd = os.open(path, _APPEND_FLAGS, wanted)
    except OSError as exc:
        raise _refusal(path, exc) or exc from None
    try:
        info = os.fstat(fd)
        _check_file(path, info)
        if stat.S_IMODE(info.st_mode) != wanted:
            os.fchmod(fd, wanted)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` (os.write may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "the write made no progress")
        view = view[written:]


def append_line(path: Path, data: bytes) -> None:
    """Append one record (`data`, ending in a newline) to a line-per-record file in one write,
    fsync'd (and its directory, when the file is new). A torn last line from an earlier crash
    is ended first, so the record stands on its own line; a failed write is cut back, so no
    half record is left for the next one to follow. Raises OSError or UnsafePathError."""
    created = not os.path.lexists(path)
    fd = open_append(path)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        try:
            write_all(fd, data)
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    if created:
        with contextlib.suppress(OSError):
            fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Replace `path` with `data` all at once: a temporary file in the same directory
    (O_EXCL, O_NOFOLLOW, `mode`), fsync'd, renamed over `path`, and the directory fsync'd.
    A reader sees the old content or the new one, never a mix; a crash leaves at worst a
    stray `.<name>.*.tmp`. A symbolic link at `path` is refused, not replaced. `mode`: 0600
    (0640 in the shared state directory) unless given."""
    if mode is None:
        mode = file_mode(path)
    try:
        current = os.lstat(path)
    except FileNotFoundError:
        current = None
    if current is not None:
        _check_file(path, current)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, _TEMP_FLAGS, mode)
    except OSError as exc:
        raise _refusal(tmp, exc) or exc from None
    try:
        try:
            # The umask may have taken bits off `mode`; the file gets exactly `mode`.
            os.fchmod(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def fsync_dir(folder: Path) -> None:
    """fsync a directory, so that a file created or renamed in it survives a crash."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- checks ---------------------------------------------------------------------------------

def _make_dirs(folder: Path, mode: int = DIR_MODE) -> None:
    """Create `folder` and its missing parents, each `mode` (0700; mkdir -p would make the
    parents with the umask's mode). An existing one is left to `_check_dir`."""
    missing: list[Path] = []
    probe = folder
    while not os.path.lexists(probe):
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for new in reversed(missing):
        try:
            os.mkdir(new, mode)
        except FileExistsError:
            continue  # made by another process in the meantime: checked below all the same
        if mode != DIR_MODE:
            # The umask takes the group's bits off: the shared mode is set exactly.
            with contextlib.suppress(OSError):
                os.chmod(new, mode, follow_symlinks=False)


def _check_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            kind = "a symbolic link" if os.path.islink(folder) else "not a directory"
            raise UnsafePathError(
                f"{folder} is {kind}; vwtui keeps its state only in a real directory of its "
                f"own: remove it (or set XDG_STATE_HOME elsewhere) and run vwtui again.") from None
        raise
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise UnsafePathError(
                f"{folder} belongs to another user (uid {info.st_uid}); vwtui writes its state "
                f"only in a directory of its own: set XDG_STATE_HOME to one of yours.")
        mode = stat.S_IMODE(info.st_mode)
        if mode & stat.S_IWOTH:
            raise UnsafePathError(
                f"{folder} is writable by every user (mode {mode:o}), so anyone could plant a "
                f"journal or a baseline there: check its content, then chmod 700 it and run "
                f"vwtui again.")
        if mode != DIR_MODE:
            os.fchmod(fd, DIR_MODE)
    finally:
        os.close(fd)


def _shared_new_dir_mode(root: Path) -> int:
    """The mode of a directory vwtui makes in the shared tree: the owner's rwx and the group
    bits (and set-group-id) of the shared directory itself, never the world's; 0750 when the
    shared directory does not exist yet."""
    try:
        info = os.stat(root)
    except OSError:
        return 0o750
    return 0o700 | (stat.S_IMODE(info.st_mode) & (0o070 | stat.S_ISGID))


def _check_shared_dir(folder: Path, *, is_root: bool) -> None:
    """A directory of the shared state tree: a real directory (never a link), never
    world-writable; owned by this user or by the team (another user: the team's directory, as
    an administrator set it up). The world's bits are taken off one of ours; the group's are
    left as the team chose them."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            kind = "a symbolic link" if os.path.islink(folder) else "not a directory"
            raise UnsafePathError(
                f"{folder} is {kind}; the shared state directory (state.dir) must be a real "
                f"directory: remove it or point state.dir at one, and run vwtui again.") from None
        raise
    try:
        info = os.fstat(fd)
        mode = stat.S_IMODE(info.st_mode)
        if mode & stat.S_IWOTH:
            raise UnsafePathError(
                f"{folder} is writable by every user (mode {mode:o}), so anyone could plant a "
                f"journal there: check its content, then chmod o-w it (the team's group may "
                f"keep its access) and run vwtui again.")
        if info.st_uid == os.geteuid() and mode & 0o007:
            os.fchmod(fd, mode & ~0o007)
        elif info.st_uid != os.geteuid() and not is_root and mode & 0o007:
            raise UnsafePathError(
                f"{folder} belongs to another user (uid {info.st_uid}) and is open to every "
                f"user (mode {mode:o}); in the shared state directory only the team's group "
                f"may read: ask its owner to chmod o-rwx it.")
    finally:
        os.close(fd)


def _check_file(path: Path, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise _link_refused(path)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(
            f"{path} is not a regular file; vwtui writes only regular files there: remove it "
            f"and run vwtui again.")
    if info.st_uid != os.geteuid():
        raise UnsafePathError(
            f"{path} belongs to another user (uid {info.st_uid}); vwtui does not write into "
            f"another user's file: move it away and run vwtui again.")


def _refusal(path: Path, exc: OSError) -> UnsafePathError | None:
    """The refusal an open error stands for (a link at `path`, a FIFO), or None."""
    if exc.errno == errno.ELOOP:
        return _link_refused(path)
    if exc.errno == errno.ENXIO:
        return UnsafePathError(
            f"{path} is not a regular file; vwtui writes only regular files there: remove it "
            f"and run vwtui again.")
    return None


def _link_refused(path: Path) -> UnsafePathError:
    return UnsafePathError(
        f"{path} is a symbolic link; vwtui never writes through a link (it could overwrite "
        f"whatever it points at): remove the link, check who made it, and run vwtui again.")
