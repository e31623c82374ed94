"""Generate the consumer-facing artefacts that derive from ``schemas/`` (``python -m tools.docgen``, ``make docs``).

Everything here is derived, never edited by hand, so that the catalogue the other teams read, the
AsyncAPI document and the Schema Registry payloads can never disagree with the schemas the Lambdas
validate against. ``--check`` is what CI runs: it rewrites nothing and fails when a committed file is
stale, listing which.

Outputs:
- ``docs/events/index.md`` and ``docs/events/<detail-type>.md``: the event catalogue
- ``docs/asyncapi.yaml``: AsyncAPI 3.0 description of the service's channels
- ``schemas/registry/<detail-type>.v<MAJOR>.json``: fully dereferenced draft-04 form for the
  EventBridge Schema Registry (``aws_schemas_schema`` type ``JSONSchemaDraft4``)
- ``schemas/consumer/<detail-type>/v<MAJOR>.json``: the consumer form (dereferenced, every object open) that
  consuming teams validate with, so that a minor version's new optional field does not break them
- ``schemas/common/outcome-codes.json``: the failure-code enums, from ``novamart_payments.failure_codes``
- ``docs/events/codes/``: one page per failure code; ``docs/events/changelog.md``: per-event changelog from
  the released snapshots

``--release`` freezes every schema version that has no snapshot yet into
``schemas/released/<detail-type>/v<MAJOR>.json`` (version MAJOR.0) or ``v<MAJOR>.<MINOR>.json``; the
contract tests compare the live schemas with those snapshots so that a released version cannot change in a
way that breaks its consumers (docs/events/versioning.md).
"""
