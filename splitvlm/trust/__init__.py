"""Trust: the site's certificates (`certs`) and who may call what (`identity`)."""
