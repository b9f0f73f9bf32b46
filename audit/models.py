"""Audit entries, the chain head, and archive anchors."""

from __future__ import annotations

from django.db import models

# The columns of a sealed entry, in the order the chain and its archives use them.
SEALED_FIELDS = (
    "seq",
    "timestamp",
    "actor",
    "action",
    "target",
    "correlation_id",
    "key_id",
    "payload",
    "prev_hash",
    "hash",
    "signature",
    "sig_key_id",
)


class AuditEntry(models.Model):
    """One recorded action; ``seq`` is null until the entry is sealed into the chain."""

    uid = models.UUIDField(unique=True, help_text="identity of the recorded entry; keeps a retried flush exactly-once")
    seq = models.BigIntegerField(unique=True, null=True, blank=True)
    timestamp = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=255, db_index=True)
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    key_id = models.CharField(max_length=32, help_text="encryption key of the payload")
    payload = models.TextField(help_text="AES-GCM sealed JSON; the key id leads the value")
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")
    signature = models.CharField(max_length=64, blank=True, default="")
    sig_key_id = models.CharField(max_length=32, blank=True, default="", help_text="signing key of the signature")
    pending_mac = models.CharField(
        max_length=100, blank=True, default="", help_text="MAC of a row written unsealed: proves the recorder wrote it"
    )
    quarantined_at = models.DateTimeField(
        null=True, blank=True, help_text="when the sealer found this row foreign: kept, never sealed"
    )
    foreign_seq = models.BigIntegerField(null=True, blank=True, help_text="the seq a foreign row claimed")

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"
        default_permissions = ("view",)
        permissions = [
            ("decrypt_auditentry", "Can read decrypted audit payloads"),
            ("verify_auditentry", "Can verify the audit chain"),
            ("export_auditentry", "Can list and export audit entries"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target} by {self.actor}"


class ChainHead(models.Model):
    """The one row whose lock serialises sealing across processes: the last sealed seq and hash."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    updated_at = models.DateTimeField(auto_now=True)
    verified_at = models.DateTimeField(null=True, blank=True, help_text="lease of the periodic verification")
    frontier = models.TextField(blank=True, default="", help_text="right edge of the Merkle tree of last_seq leaves")
    head_mac = models.CharField(max_length=100, blank=True, default="", help_text="MAC of seq, hash and frontier")

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"head at #{self.last_seq}"


class TreeNode(models.Model):
    """A perfect subtree of the Merkle tree (``2**level`` leaves from leaf ``index << level``)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_treenode_level_index")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditArchive(models.Model):
    """A range of entries moved to a signed archive file; the live chain continues from ``last_hash``."""

    first_seq = models.BigIntegerField(unique=True)
    last_seq = models.BigIntegerField(unique=True)
    first_prev_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    signature = models.CharField(max_length=64)
    sig_key_id = models.CharField(max_length=32)

    class Meta:
        ordering = ["first_seq"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"archive #{self.first_seq}-#{self.last_seq}"
