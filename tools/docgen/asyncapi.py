"""The AsyncAPI 3.0 document of the service's channels, with shared payload parts lifted into components."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.docgen.pages import examples_of, pinned_rule_pattern
from tools.docgen.schemas import consumer_form, load_json, schema_meta

# ------------------------------------------------------------------------------------------------
# AsyncAPI


def _camel(detail_type: str) -> str:
    words = detail_type.replace(".", "_").split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def _pascal(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in text.replace(".", "_").replace("-", "_").split("_") if w)


# Properties whose definition is shared by several events, and the component name it gets.
_SHARED_NAMES = {
    "amount": "Money",
    "currency": "Currency",
    "paymentMethod": "PaymentMethod",
    "version": "EnvelopeVersion",
}


class _Components:
    """Lifts every object and enum of the payload schemas into named ``components.schemas``.

    Code generators name what is inline ``AnonymousSchema_N``; here each gets a name: a shared one where the
    definition is shared (``Money``, ``Currency``, ``PublishedMetadataV1`` ...), else the event's name plus
    the property path. Identical definitions share one component.
    """

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._by_content: dict[str, str] = {}

    def lift(self, node: Any, candidates: list[str]) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        if isinstance(node.get("properties"), dict):
            out["properties"] = {
                name: self.lift(sub, self._names(name, sub, candidates)) for name, sub in node["properties"].items()
            }
        if isinstance(node.get("items"), dict):
            out["items"] = self.lift(node["items"], [c + "Item" for c in candidates])
        if node.get("type") != "object" and "enum" not in node:
            return out
        content = json.dumps(out, sort_keys=True)
        if content not in self._by_content:
            name = next(c for c in [*candidates, f"{candidates[-1]}{len(self.schemas)}"] if c not in self.schemas)
            self.schemas[name] = out
            self._by_content[content] = name
        return {"$ref": f"#/components/schemas/{self._by_content[content]}"}

    def _names(self, prop: str, sub: Any, parents: list[str]) -> list[str]:
        own = [parents[-1] + _pascal(prop)]
        if prop == "metadata" and isinstance(sub, dict):
            required = sub.get("required", [])
            pattern = sub.get("properties", {}).get("schemaVersion", {}).get("pattern", "^1")
            own.insert(0, f"{'Published' if 'causationId' in required else 'Consumed'}MetadataV{pattern[1]}")
        elif prop == "data":
            own = [parents[-1].removesuffix("Detail") + "Data"]
        elif prop == "code" and parents[-1].endswith("Data"):
            own.insert(0, parents[-1].removesuffix("Data").removesuffix("Failed") + "FailureCode")
        elif prop in _SHARED_NAMES:
            own.insert(0, _SHARED_NAMES[prop])
        return own


def _rule_pattern_x(source: str, detail_type: str, major: int) -> dict[str, Any]:
    return pinned_rule_pattern(source, detail_type, major)


def asyncapi_doc(files: list[tuple[str, int, Path]]) -> dict[str, Any]:
    """AsyncAPI 3.0 for generators and people: named schemas and messages, the bus as server, the rule
    pattern of each channel (``x-eventbridge``), correlation ids. Payloads are the consumer forms."""
    components = _Components()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    newest = {dt: (major, path) for dt, major, path in files}
    for dt, (major, path) in sorted(newest.items()):
        meta = schema_meta(path)
        key = _camel(dt)
        name = _pascal(dt)
        schema = consumer_form(path)
        # No title: generators would name the model after it; the component key is the name.
        payload = {k: v for k, v in schema.items() if k not in ("$schema", "$id", "title")}
        payload_ref = components.lift(payload, [name])
        examples = [{"name": p.stem, "payload": load_json(p)} for p in examples_of(dt, major, "valid")[:2]]
        messages[name] = {
            "name": dt,
            "title": schema.get("title", dt),
            "summary": schema.get("description", ""),
            "contentType": "application/json",
            "correlationId": {"$ref": "#/components/correlationIds/correlationId"},
            "tags": [{"name": meta["direction"]}, {"name": meta["source"]}],
            "payload": payload_ref,
            "examples": examples,
        }
        channels[key] = {
            "address": dt,
            "title": dt,
            "description": (
                f"EventBridge events with source `{meta['source']}` and detail-type `{dt}` on the service bus; "
                f"schema version {meta['version']}."
            ),
            "servers": [{"$ref": "#/servers/eventBus"}],
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "x-eventbridge": {
                "source": meta["source"],
                "detailType": dt,
                "rulePattern": _rule_pattern_x(meta["source"], dt, major),
            },
        }
        action = "receive" if meta["direction"] == "consumed" else "send"
        operations[action + name] = {
            "action": action,
            "title": f"{'Consume' if action == 'receive' else 'Publish'} {dt}",
            "summary": f"{meta['producer']} -> {', '.join(meta['consumers'])}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{name}"}],
            "tags": [{"name": meta["direction"]}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "NovaMart Payments events",
            "version": "1.1.0",
            "description": (
                "Events the NovaMart payment service consumes from inventory and orders and publishes for "
                "orders, notifications and finance, all on one EventBridge bus. Payload schemas are the consumer "
                "forms (objects open: ignore fields you do not know); versioning, delivery semantics and failure "
                "codes: docs/events/. Generated by tools/gen_docs.py from schemas/; do not edit."
            ),
            "contact": {"name": "NovaMart Payments team", "email": "payments@novamart.example"},
            "tags": [
                {"name": "published", "description": "Events the payment service publishes."},
                {"name": "consumed", "description": "Events the payment service consumes."},
                {"name": "novamart.payments"},
                {"name": "novamart.orders"},
                {"name": "novamart.inventory"},
            ],
            "externalDocs": {"description": "Event catalogue", "url": "https://schemas.novamart.example/payments/"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "eventBus": {
                "host": "events.{region}.amazonaws.com",
                "pathname": "/{account}/{eventBusName}",
                "protocol": "https",
                "title": "The service's EventBridge bus",
                "description": (
                    "Amazon EventBridge PutEvents endpoint of the bus the service consumes from and publishes to. "
                    "Another account subscribes with a rule on this bus (docs/events/subscribing.md)."
                ),
                "variables": {
                    "region": {"default": "us-east-2", "description": "AWS region of the deployment."},
                    "account": {
                        "description": "12-digit AWS account id of the deployment.",
                        "examples": ["123456789012"],
                    },
                    "eventBusName": {"default": "default", "description": "Terraform variable event_bus_name."},
                },
                "tags": [{"name": "novamart.payments"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": components.schemas,
            "messages": messages,
            "correlationIds": {
                "correlationId": {
                    "description": "Shared by every event of one order's flow; copied into published events.",
                    "location": "$message.payload#/detail/metadata/correlationId",
                }
            },
        },
    }


def dump_yaml(doc: Any) -> str:
    try:
        import yaml
    except ImportError:  # JSON is valid YAML 1.2; keeps the generator usable without PyYAML.
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    header = "# Generated by tools/gen_docs.py from schemas/; do not edit.\n"
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return header + str(body)


# ------------------------------------------------------------------------------------------------
# Driver
