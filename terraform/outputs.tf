# Values the deployment steps in README.md use (tofu output -raw NAME).

output "ecr_repository_url" {
  description = "ECR repository to push the application image to."
  value       = aws_ecr_repository.app.repository_url
}

output "image" {
  description = "Image reference the services run."
  value       = local.image
}

output "data_bucket" {
  description = "S3 bucket that receives the kiosk CSV and exhibition JSON files."
  value       = aws_s3_bucket.data.bucket
}

output "data_prefix" {
  description = "Key prefix the pipeline reads under (empty for the whole bucket)."
  value       = var.s3_prefix
}

output "access_log_bucket" {
  description = "S3 bucket holding the data bucket's server access logs."
  value       = aws_s3_bucket.access_logs.bucket
}

output "ecs_cluster_name" {
  description = "ECS cluster of the services."
  value       = aws_ecs_cluster.main.name
}

output "worker_service_name" {
  description = "ECS service of the Temporal worker."
  value       = aws_ecs_service.service["worker"].name
}

output "bridge_service_name" {
  description = "ECS service of the Kafka bridge."
  value       = aws_ecs_service.service["bridge"].name
}

output "worker_task_definition" {
  description = "Task definition family of the worker, also used for one-off operator tasks (migrations, schedules)."
  value       = aws_ecs_task_definition.service["worker"].family
}

output "private_subnet_ids" {
  description = "Subnets for one-off tasks (comma-separated, as aws ecs run-task expects)."
  value       = join(",", var.private_subnet_ids)
}

output "services_security_group_id" {
  description = "Security group of the tasks (the only one the database admits)."
  value       = aws_security_group.services.id
}

output "db_endpoint" {
  description = "Private endpoint of the RDS instance (host:port)."
  value       = aws_db_instance.main.endpoint
}

output "database_url_secret_arn" {
  description = "Secrets Manager secret holding DATABASE_URL."
  value       = aws_secretsmanager_secret.database.arn
}

output "kafka_secret_arn" {
  description = "Secrets Manager secret to fill with the Kafka SASL credentials ({\"username\", \"password\"}); null with aws-msk-iam."
  value       = local.kafka_secret_arn
}

output "temporal_secret_arn" {
  description = "Secrets Manager secret to fill with the Temporal API key or mTLS pair (null when temporal_auth is none)."
  value       = local.temporal_secret_arn
}

output "log_groups" {
  description = "CloudWatch log groups of the services."
  value = {
    worker = aws_cloudwatch_log_group.worker.name
    bridge = aws_cloudwatch_log_group.bridge.name
  }
}

output "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the bucket, database, secrets, logs and images."
  value       = aws_kms_key.main.arn
}
