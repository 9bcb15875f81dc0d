"""S3 through boto3."""
