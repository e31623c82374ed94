variable "function_name" {
  description = "Name of the webhook function the URL invokes."
  type        = string
}
