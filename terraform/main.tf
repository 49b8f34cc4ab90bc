# Shared names and look-ups used by the other files.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  bucket_name = coalesce(var.bucket_name, "${local.name}-data-${local.account_id}")

  # Object keys the services may read: everything under the prefix (or the whole bucket).
  s3_object_arn_pattern = "${aws_s3_bucket.data.arn}/${var.s3_prefix}*"

  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"

  # Where the image keeps the prebuilt Temporal workflow bundle and the RDS CA bundle (see Dockerfile).
  workflow_bundle_path = "/app/dist/workflow-bundle.js"
  rds_ca_bundle_path   = "/app/certs/rds-ca-bundle.pem"

  temporal_port = tonumber(split(":", var.temporal_address)[1])
}
