# Secrets Manager entries the containers read at start (ECS injects them as environment
# variables; nothing secret is in the task definition, the image or git).
#
# - database: DATABASE_URL, written here from the generated master password (sslmode=verify-full; the CA
#             bundle's path is DATABASE_SSL_CA, set in ecs.tf).
# - kafka:    {"username": "...", "password": "..."}  -> KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD
#             (not with kafka_sasl_mechanism = aws-msk-iam: the task roles log in)
# - temporal: {"api_key": "..."}                       -> TEMPORAL_API_KEY   (temporal_auth = api_key)
#             {"client_cert": "PEM", "client_key": "PEM"} -> TEMPORAL_TLS_CLIENT_CERT_DATA / _KEY_DATA (mtls)
#
# The Kafka and Temporal values are issued by those services and are put by an operator
# (README, "Fill the external secrets"), so they never pass through Terraform or its state.

locals {
  database_url = format(
    "postgres://%s:%s@%s:%d/%s?sslmode=verify-full",
    var.db_username,
    urlencode(random_password.db_master.result),
    aws_db_instance.main.address,
    aws_db_instance.main.port,
    var.db_name,
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
  # None with MSK IAM. An entry made before this count existed becomes kafka[0] by itself (Terraform and
  # OpenTofu move an object to instance 0 when count is added).
  count = var.kafka_sasl_mechanism == "aws-msk-iam" ? 0 : 1

  name                    = "${local.name}/kafka-sasl"
  description             = "Kafka SASL credentials of the services: JSON {\"username\", \"password\"}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret" "temporal" {
  #checkov:skip=CKV2_AWS_57:Temporal Cloud API keys are issued by Temporal Cloud; they are rotated there and the new value is put here (README, "Rotate credentials"). No rotation Lambda can create them.
  count = var.temporal_auth == "none" ? 0 : 1

  name                    = "${local.name}/temporal"
  description             = var.temporal_auth == "api_key" ? "Temporal Cloud API key of the services: JSON {\"api_key\"}" : "Temporal mTLS client certificate and key of the services (PEM): JSON {\"client_cert\", \"client_key\"}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}
