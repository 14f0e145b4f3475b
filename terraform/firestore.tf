# The dataset catalogue: the project's "(default)" Firestore database in
# native mode (docs/design.md §6). Created only when create_firestore_database is
# true; a project that already has one sets it to false. It is protected
# twice from `terraform destroy`: delete protection on the database, and
# deletion_policy ABANDON (Terraform forgets it instead of deleting it).
resource "google_firestore_database" "catalogue" {
  count = var.create_firestore_database ? 1 : 0

  project     = var.project_id
  name        = "(default)"
  location_id = local.firestore_location
  type        = "FIRESTORE_NATIVE"

  concurrency_mode                  = "PESSIMISTIC" # markFailed/recordReady are per-version read-modify-write transactions
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  depends_on = [google_project_service.apis]
}

# No composite index is needed: allocation, `latest` and listDatasets all
# query by version alone (shared/catalog/firestore-catalog.ts), which
# Firestore's automatic single-field index serves.
