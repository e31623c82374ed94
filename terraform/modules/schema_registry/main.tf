# One registry, one schema per file of schema_dir (whatever is there: fileset is empty when the
# folder is missing). Names keep the major version: `payment.succeeded.v1`.
locals {
  files   = var.enabled ? fileset(var.schema_dir, "*.json") : toset([])
  schemas = { for f in local.files : trimsuffix(f, ".json") => f }
}

resource "aws_schemas_registry" "this" {
  count = var.enabled ? 1 : 0

  name        = var.registry_name
  description = "Events consumed and published by the NovaMart payment service"
  tags        = var.tags
}

resource "aws_schemas_schema" "this" {
  for_each = local.schemas

  name          = each.key
  registry_name = aws_schemas_registry.this[0].name
  type          = "JSONSchemaDraft4"
  description   = "NovaMart event ${each.key} (from schemas/registry/${each.value})"
  content       = file("${var.schema_dir}/${each.value}")
  tags          = var.tags
}
