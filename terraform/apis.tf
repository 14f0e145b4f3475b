# APIs the service needs. They stay enabled on `terraform destroy`
# (disable_on_destroy = false): other workloads of the project may use them.
locals {
  apis = toset([
    "artifactregistry.googleapis.com",     # function container images
    "cloudbuild.googleapis.com",           # builds the function source
    "cloudfunctions.googleapis.com",       # the eight functions (gen2)
    "cloudresourcemanager.googleapis.com", # project IAM bindings
    "eventarc.googleapis.com",             # object-finalized and shard triggers
    "firestore.googleapis.com",            # dataset catalogue
    "iam.googleapis.com",                  # service accounts
    "iamcredentials.googleapis.com",       # signBlob for V4 signed URLs
    "logging.googleapis.com",              # build and function logs
    "pubsub.googleapis.com",               # Eventarc transport, the shard topic
    "run.googleapis.com",                  # gen2 functions run on Cloud Run
    "storage.googleapis.com",              # datasets and source buckets
  ])
}

resource "google_project_service" "apis" {
  for_each = local.apis

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
