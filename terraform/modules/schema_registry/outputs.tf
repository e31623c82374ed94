output "registry_name" {
  description = "Name of the registry (null when off)."
  value       = one(aws_schemas_registry.this[*].name)
}

output "schema_names" {
  description = "Names of the registered schemas."
  value       = sort(keys(aws_schemas_schema.this))
}
