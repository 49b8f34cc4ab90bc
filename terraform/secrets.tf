# Secrets Manager entries the containers read at start (ECS injects them as environment
# variables; nothing secret is in the task definition, the image or git).
#
# - database: DATABASE_URL, written here from the generated master password.
# - kafka:    {"username": "...", "password": "..."}  -> KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD
# - temporal: {"api_key": "..."}                       -> TEMPORAL_API_KEY   (only when temporal_auth = api_key)
#
# The Kafka and Temporal values are issued by those services and are put by an operator
# (README, "Fill the external secrets"), so they never pass through Terraform or its state.

locals {
  database_url = format(
    "postgres://%s:%s@%s:%d/%s?sslmode=verify-full&sslrootcert=%s",
    var.db_username,
    urlencode(random_password.db_master.result),
    aws_db_instance.main.address,
    aws_db_instance.main.port,
    var.db_name,
    local.rds_ca_bundle_path,
  )
}

resource "aws_secretsmanager_secret" "database" {
  #checkov:skip=CKV2_AWS_57:The value is a full connection URL built from the RDS master password that Terraform generates; rotating it needs a coordinated password change and service restart (README, "Rotate credentials"), not a rotation Lambda, which this stack does not deploy.
  name                    = "${local.name}/database-url"
  description             = "DATABASE_URL of the kiosk pipeline (PostgreSQL on RDS, TLS verified)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id     = aws_secretsmanager_secret.database.id
  secret_string = local.database_url
}

resource "aws_secretsmanager_secret" "kafka" {
  #checkov:skip=CKV2_AWS_57:Kafka SASL credentials are issued by the external cluster (MSK SCRAM user or Confluent API key); they are rotated there and the new value is put here (README, "Rotate credentials"). No rotation Lambda can create them.
  name                    = "${local.name}/kafka-sasl"
  description             = "Kafka SASL credentials of the bridge: JSON {\"username\", \"password\"}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret" "temporal" {
  #checkov:skip=CKV2_AWS_57:Temporal Cloud API keys are issued by Temporal Cloud; they are rotated there and the new value is put here (README, "Rotate credentials"). No rotation Lambda can create them.
  count = var.temporal_auth == "api_key" ? 1 : 0

  name                    = "${local.name}/temporal"
  description             = "Temporal Cloud API key of the services: JSON {\"api_key\"}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}
