variable "enabled" {
  description = "Create the registry and schemas. Must be false against moto: it has no Schemas API and the provider retries forever."
  type        = bool
  default     = true
}

variable "registry_name" {
  description = "Name of the EventBridge schema registry."
  type        = string
  default     = "novamart-payments"
}

variable "schema_dir" {
  description = "Folder of registry-ready schemas, one `<detail-type>.v<MAJOR>.json` per event (JSONSchemaDraft4). Every *.json file in it becomes a schema."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
