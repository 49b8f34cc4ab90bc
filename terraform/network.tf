# Security groups in the existing VPC (var.vpc_id, var.private_subnet_ids).
#
# - services: the worker and bridge tasks. No inbound rule at all (neither service
#   listens); outbound only to what they call: HTTPS (AWS APIs, ECR, Secrets Manager,
#   through the NAT gateway or VPC endpoints), Temporal, Kafka and the database.
# - database: PostgreSQL reachable only from the services security group; no outbound.

data "aws_vpc" "selected" {
  id = var.vpc_id
}

resource "aws_security_group" "services" {
  name        = "${local.name}-services"
  description = "Temporal worker and Kafka bridge tasks: no ingress, egress only to their dependencies"
  vpc_id      = data.aws_vpc.selected.id

  tags = { Name = "${local.name}-services" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "services_https" {
  security_group_id = aws_security_group.services.id
  description       = "HTTPS to AWS APIs (S3, ECR, Secrets Manager, CloudWatch Logs) via NAT or VPC endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "services_temporal" {
  for_each = toset(var.temporal_egress_cidrs)

  security_group_id = aws_security_group.services.id
  description       = "Temporal frontend (gRPC over TLS)"
  ip_protocol       = "tcp"
  from_port         = local.temporal_port
  to_port           = local.temporal_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "services_kafka" {
  for_each = toset(var.kafka_egress_cidrs)

  security_group_id = aws_security_group.services.id
  description       = "Kafka brokers (SASL_SSL)"
  ip_protocol       = "tcp"
  from_port         = var.kafka_broker_port_range.from
  to_port           = var.kafka_broker_port_range.to
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "services_database" {
  security_group_id            = aws_security_group.services.id
  description                  = "PostgreSQL on RDS"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_security_group" "database" {
  name        = "${local.name}-database"
  description = "RDS PostgreSQL: ingress only from the pipeline services, no egress"
  vpc_id      = data.aws_vpc.selected.id

  tags = { Name = "${local.name}-database" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_services" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the worker and bridge tasks only"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.services.id
}
