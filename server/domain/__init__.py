"""Domain: pure rules and read-only queries shared by services and representations; imports nothing from
server.api, server.services or server.representations."""
