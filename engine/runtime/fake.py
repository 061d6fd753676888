"""A recording twin of ``sys.Syscalls`` for unit tests: every call is
appended to ``calls`` as (name, args); calls named in ``fail`` raise."""
from __future__ import annotations

from .errors import RuntimeFailure


class FakeSyscalls:
    def __init__(self, fail: dict[str, int] | None = None) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.fail = dict(fail or {})
        self.caps = (0, 0, 0)

    def _record(self, name: str, *args):
        self.calls.append((name, args))
        if name in self.fail:
            raise RuntimeFailure(f"{name}: injected failure", self.fail[name])

    def unshare(self, flags): self._record("unshare", flags)
    def setns(self, fd, nstype=0): self._record("setns", fd, nstype)
    def mount(self, source, target, fstype=None, flags=0, data=None):
        self._record("mount", source, target, fstype, flags, data)
    def umount(self, target, flags=0): self._record("umount", target, flags)
    def pivot_root(self, new_root, put_old): self._record("pivot_root", new_root, put_old)
    def mknod(self, path, mode, device): self._record("mknod", path, mode, device)
    def sethostname(self, name): self._record("sethostname", name)
    def setdomainname(self, name): self._record("setdomainname", name)
    def prctl(self, option, arg2=0, arg3=0, arg4=0, arg5=0):
        self._record("prctl", option, arg2, arg3, arg4, arg5)
        return 0
    def capget(self):
        self._record("capget")
        return self.caps
    def capset(self, effective, permitted, inheritable):
        self._record("capset", effective, permitted, inheritable)
        self.caps = (effective, permitted, inheritable)
    def seccomp_set_filter(self, program, flags=0): self._record("seccomp_set_filter", program, flags)
