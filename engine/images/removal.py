"""docker's rules for removing images: ``rmi`` (untag or delete), prune, gc.

Follows moby's daemon/images/image_delete.go: a name untags, an id deletes;
the last reference going deletes the image unless containers use it; running
containers are a hard conflict ("cannot be forced"), stopped ones and other
repositories a soft one ("must be forced"). Functions take the ImageService
and are called with its lock held; this module must not import service.py
(it is imported by it), the API or the runtime.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.images.errors import ImageConflict
from engine.images.reference import Reference, parse_reference, short_id


@dataclass(frozen=True)
class Conflict:
    message: str
    used: bool


def single_reference(refs: list[Reference]) -> bool:
    """One tag, possibly with digest references of the same repository."""
    if len(refs) <= 1:
        return len(refs) == 1
    tags = [ref for ref in refs if not ref.digest]
    if len(tags) > 1:
        return False
    canonical = {ref.name for ref in refs if ref.digest}
    single = tags[0] if tags else refs[0]
    return len(canonical) == 1 and single.name in canonical


def is_id_prefix(image_id: str, name: str) -> bool:
    return image_id.startswith(name) or image_id[len("sha256:"):].startswith(name)


def check(image_id: str, users: list[tuple[str, bool]], refs: list[Reference], *,
          references: bool, stopped: bool) -> Conflict | None:
    short = short_id(image_id)
    for container, running in users:
        if running:
            return Conflict(f"conflict: unable to delete {short} (cannot be forced) - image is "
                            f"being used by running container {short_id(container)}", True)
    if references and refs:
        return Conflict(f"conflict: unable to delete {short} (must be forced) - image is "
                        "referenced in multiple repositories", False)
    if stopped and users:
        return Conflict(f"conflict: unable to delete {short} (must be forced) - image is "
                        f"being used by stopped container {short_id(users[0][0])}", True)
    return None


def _untag(service, ref: Reference, records: list[dict]) -> None:
    service.store.delete_name(str(ref))
    records.append({"Untagged": ref.familiar})


def remove(service, name: str, force: bool) -> list[dict]:
    image_id, _ = service._find(name)
    refs = service._references(image_id)
    users = service._users(image_id)
    records: list[dict] = []
    quiet = False
    if not is_id_prefix(image_id, name):
        if not force and single_reference(refs) and users:
            raise ImageConflict(
                f'conflict: unable to remove repository reference "{name}" (must force) - '
                f"container {short_id(users[0][0])} is using its referenced image "
                f"{short_id(image_id)}")
        ref = parse_reference(name).lookup_key()
        _untag(service, ref, records)
        refs = [r for r in refs if r != ref]
        if not ref.digest and not any(not r.digest and r.name == ref.name for r in refs):
            # The repository's last tag went: its digest references go with it.
            for digested in [r for r in refs if r.digest and r.name == ref.name]:
                _untag(service, digested, records)
                refs.remove(digested)
        if refs:
            return records
        quiet = True
    elif single_reference(refs):
        conflict = check(image_id, users, refs, references=False, stopped=not force)
        if conflict:
            raise ImageConflict(conflict.message)
        for ref in refs:
            _untag(service, ref, records)
        refs = []
    conflict = check(image_id, users, refs, references=not force, stopped=not force)
    if conflict:
        if quiet and conflict.used:
            return records
        raise ImageConflict(conflict.message)
    for ref in refs:
        _untag(service, ref, records)
    return records + _delete(service, image_id, users)


def _delete(service, image_id: str, users: list) -> list[dict]:
    store = service.store
    records = [{"Deleted": image_id}]
    if users:
        # Forced while stopped containers use it: hidden, but its layers stay
        # (they are those containers' lowerdirs) until collect() finds it unused.
        record = store.image(image_id)
        record["deleted"] = True
        store.write_image(record)
        return records
    store.delete_image(image_id)
    service._configs.pop(image_id, None)
    return records + [{"Deleted": diff_id} for diff_id in collect(service)]


def collect(service) -> list[str]:
    """Drop hidden images no container uses any more, then unreferenced data."""
    store = service.store
    for record in store.images():
        if record.get("deleted") and not service._users(record["id"]):
            store.delete_image(record["id"])
            service._configs.pop(record["id"], None)
    return store.collect()


def prune(service, all_unused: bool) -> dict:
    store = service.store
    names = store.names()
    referenced = set(names.values())
    sizes = service._layer_sizes()
    deleted: list[dict] = []
    for record in store.images():
        image_id = record["id"]
        if record.get("deleted") or (not all_unused and image_id in referenced):
            continue
        if service._users(image_id):
            continue
        for ref in service._references(image_id, names):
            _untag(service, ref, deleted)
        store.delete_image(image_id)
        service._configs.pop(image_id, None)
        deleted.append({"Deleted": image_id})
    removed = collect(service)
    deleted += [{"Deleted": diff_id} for diff_id in removed]
    return {"ImagesDeleted": deleted or None,
            "SpaceReclaimed": sum(sizes.get(diff_id, 0) for diff_id in removed)}
