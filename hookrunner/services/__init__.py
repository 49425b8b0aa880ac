"""Services the host offers runs and applications: sessions, AWS, storage by URI."""
