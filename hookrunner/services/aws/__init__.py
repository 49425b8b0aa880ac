"""AWS: the S3 client slot (``slot``), S3 objects (``s3``), SNS/SQS clients (``clients``),
the background delivery queue (``delivery``) and the built-in hooks (``builtin``)."""
