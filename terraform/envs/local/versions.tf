terraform {
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State stays on this machine, outside git. tools/tf.sh passes the file with
  # -backend-config="path=..." (TF_LOCAL_STATE, default .run/terraform-local.tfstate).
  backend "local" {}
}
