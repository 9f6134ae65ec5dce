// The OpenAPI 3.1 description of every endpoint. Keep it in step with the routes: OpenAPITests fails
// when a route is missing here or documented but not served.

/// The document served at `/openapi.json`.
enum OpenAPIDocument {
    static let json = ##"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Encore API",
            "version": "1.0.0",
            "description": "Encore: a self-hostable music streaming platform. Every error is `{\"error\": {\"code\", \"message\"}}` with a stable code. Successful JSON responses carry a strong `ETag` and `Cache-Control: private, no-cache`; a GET with a matching `If-None-Match` answers 304 with no body.",
            "license": {
              "name": "Apache-2.0",
              "identifier": "Apache-2.0"
            }
          },
          "servers": [
            {
              "url": "/"
            }
          ],
          "tags": [
            {
              "name": "Auth"
            },
            {
              "name": "Users"
            },
            {
              "name": "Artists"
            },
            {
              "name": "Albums"
            },
            {
              "name": "Tracks"
            },
            {
              "name": "Playlists"
            },
            {
              "name": "Search"
            },
            {
              "name": "Media"
            },
            {
              "name": "Operations"
            }
          ],
          "paths": {
            "/health": {
              "get": {
                "summary": "Liveness",
                "tags": [
                  "Operations"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Status"
                        }
                      }
                    }
                  }
                },
                "operationId": "health",
                "security": []
              }
            },
            "/ready": {
              "get": {
                "summary": "Readiness: the database and blob storage answer",
                "tags": [
                  "Operations"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Status"
                        }
                      }
                    }
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "ready",
                "security": []
              }
            },
            "/openapi.json": {
              "get": {
                "summary": "This document",
                "tags": [
                  "Operations"
                ],
                "responses": {
                  "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                },
                "operationId": "openapi",
                "security": []
              }
            },
            "/api/v1/auth/register": {
              "post": {
                "summary": "Create a listener or artist account",
                "tags": [
                  "Auth"
                ],
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Session"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "register",
                "description": "Admins cannot register; they are created with `encore admin create`.",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/RegisterRequest"
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/api/v1/auth/login": {
              "post": {
                "summary": "Exchange email and password for a token",
                "tags": [
                  "Auth"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Session"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "login",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/LoginRequest"
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/api/v1/users/me": {
              "get": {
                "summary": "The caller's account",
                "tags": [
                  "Users"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/User"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                },
                "operationId": "getMe",
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "patch": {
                "summary": "Change the caller's account",
                "tags": [
                  "Users"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/User"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "updateMe",
                "description": "Changing `email` or `password` requires `currentPassword`.",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UserPatch"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "delete": {
                "summary": "Delete the caller's account and everything it owns",
                "tags": [
                  "Users"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Deleted"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                },
                "operationId": "deleteMe",
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/artists": {
              "post": {
                "summary": "Create an artist profile (artist role)",
                "tags": [
                  "Artists"
                ],
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Artist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "createArtist",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ArtistCreate"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "get": {
                "summary": "List artists by name",
                "tags": [
                  "Artists"
                ],
                "responses": {
                  "200": {
                    "description": "One page",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [
                            {
                              "$ref": "#/components/schemas/PageInfo"
                            },
                            {
                              "type": "object",
                              "required": [
                                "items"
                              ],
                              "properties": {
                                "items": {
                                  "type": "array",
                                  "items": {
                                    "$ref": "#/components/schemas/Artist"
                                  }
                                }
                              }
                            }
                          ]
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                },
                "operationId": "listArtists",
                "parameters": [
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "default": 0
                    }
                  },
                  {
                    "name": "ownerId",
                    "in": "query",
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/artists/{id}": {
              "get": {
                "summary": "An artist",
                "tags": [
                  "Artists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Artist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "getArtist",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "patch": {
                "summary": "Change an artist (owner or admin)",
                "tags": [
                  "Artists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Artist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "updateArtist",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ArtistPatch"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "delete": {
                "summary": "Delete an artist with its albums, tracks and audio (owner or admin)",
                "tags": [
                  "Artists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Deleted"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "deleteArtist",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/artists/{id}/albums": {
              "get": {
                "summary": "An artist's albums, oldest release first",
                "tags": [
                  "Albums"
                ],
                "responses": {
                  "200": {
                    "description": "One page",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [
                            {
                              "$ref": "#/components/schemas/PageInfo"
                            },
                            {
                              "type": "object",
                              "required": [
                                "items"
                              ],
                              "properties": {
                                "items": {
                                  "type": "array",
                                  "items": {
                                    "$ref": "#/components/schemas/Album"
                                  }
                                }
                              }
                            }
                          ]
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "listArtistAlbums",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "default": 0
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/albums": {
              "post": {
                "summary": "Create an album for an artist you own",
                "tags": [
                  "Albums"
                ],
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Album"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "createAlbum",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/AlbumCreate"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/albums/{id}": {
              "get": {
                "summary": "An album",
                "tags": [
                  "Albums"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Album"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "getAlbum",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "patch": {
                "summary": "Change an album (owner or admin)",
                "tags": [
                  "Albums"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Album"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "updateAlbum",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/AlbumPatch"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "delete": {
                "summary": "Delete an album with its tracks and audio (owner or admin)",
                "tags": [
                  "Albums"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Deleted"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "deleteAlbum",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/albums/{id}/tracks": {
              "get": {
                "summary": "An album's tracks in track-number order",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "One page",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [
                            {
                              "$ref": "#/components/schemas/PageInfo"
                            },
                            {
                              "type": "object",
                              "required": [
                                "items"
                              ],
                              "properties": {
                                "items": {
                                  "type": "array",
                                  "items": {
                                    "$ref": "#/components/schemas/Track"
                                  }
                                }
                              }
                            }
                          ]
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "listAlbumTracks",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "default": 0
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/tracks/upload-url": {
              "get": {
                "summary": "A pre-signed URL to PUT one audio file to (artist role)",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UploadGrant"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  }
                },
                "operationId": "getUploadUrl",
                "description": "PUT the raw audio bytes to `uploadUrl` before `expiresAt` (at most `maxBytes`), then pass `trackUrl` to `POST /api/v1/tracks`.",
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/tracks/update-url/{id}": {
              "get": {
                "summary": "A pre-signed URL for replacement audio of a track you own",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UploadGrant"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "getUpdateUrl",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/tracks": {
              "post": {
                "summary": "Create a track from an uploaded file",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "201": {
                    "description": "Created: status processing",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Track"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/Unprocessable"
                  }
                },
                "operationId": "createTrack",
                "description": "The album and the upload must be the caller's (`upload_missing`, `upload_not_yours`, `track_number_taken`). The track is `processing` until the media pipeline has probed, fingerprinted and transcoded it; it then becomes `ready` or `failed` with `failureReason` (`invalid_audio`, `duplicate_audio`, `processing_failed`).",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/TrackCreate"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/tracks/{id}": {
              "get": {
                "summary": "A track",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Track"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "getTrack",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "patch": {
                "summary": "Change a track's metadata and/or replace its audio (owner or admin)",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Track"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/Unprocessable"
                  }
                },
                "operationId": "updateTrack",
                "description": "With `trackUrl` (from `GET /tracks/update-url/{id}`) new audio goes through the pipeline while the current audio keeps playing (`replacement.status`); renditions are swapped when it is done and the old ones removed.",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/TrackPatch"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "delete": {
                "summary": "Delete a track and all its stored audio (owner or admin)",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Deleted"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "deleteTrack",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/tracks/{id}/stream": {
              "get": {
                "summary": "Signed, expiring URLs to play the track (HLS, DASH, progressive); records a play event",
                "tags": [
                  "Tracks"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/StreamGrant"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  }
                },
                "operationId": "streamTrack",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/playlists": {
              "post": {
                "summary": "Create a playlist",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "201": {
                    "description": "Created",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Playlist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "createPlaylist",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PlaylistCreate"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "get": {
                "summary": "The caller's playlists",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "One page",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [
                            {
                              "$ref": "#/components/schemas/PageInfo"
                            },
                            {
                              "type": "object",
                              "required": [
                                "items"
                              ],
                              "properties": {
                                "items": {
                                  "type": "array",
                                  "items": {
                                    "$ref": "#/components/schemas/Playlist"
                                  }
                                }
                              }
                            }
                          ]
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                },
                "operationId": "listPlaylists",
                "parameters": [
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "default": 0
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/playlists/{id}": {
              "get": {
                "summary": "A playlist (own, or public)",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Playlist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "getPlaylist",
                "description": "Another user's private playlist answers 404, as if it did not exist.",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "patch": {
                "summary": "Rename or publish a playlist (owner)",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Playlist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "updatePlaylist",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PlaylistPatch"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "delete": {
                "summary": "Delete a playlist (owner)",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Deleted"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "deletePlaylist",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/playlists/{id}/tracks": {
              "get": {
                "summary": "A playlist's entries in order",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "One page",
                    "content": {
                      "application/json": {
                        "schema": {
                          "allOf": [
                            {
                              "$ref": "#/components/schemas/PageInfo"
                            },
                            {
                              "type": "object",
                              "required": [
                                "items"
                              ],
                              "properties": {
                                "items": {
                                  "type": "array",
                                  "items": {
                                    "$ref": "#/components/schemas/PlaylistEntry"
                                  }
                                }
                              }
                            }
                          ]
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "listPlaylistEntries",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "default": 0
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              },
              "post": {
                "summary": "Insert a track (default: at the end)",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Playlist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "addPlaylistEntry",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PlaylistAdd"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/playlists/{id}/tracks/move": {
              "post": {
                "summary": "Move the entry at `from` to `to`",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Playlist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "movePlaylistEntry",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PlaylistMove"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/playlists/{id}/tracks/{position}": {
              "delete": {
                "summary": "Remove the entry at a position",
                "tags": [
                  "Playlists"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Playlist"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "operationId": "removePlaylistEntry",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "format": "uuid"
                    }
                  },
                  {
                    "name": "position",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "integer",
                      "minimum": 0
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/api/v1/search": {
              "get": {
                "summary": "Search tracks, albums and artists",
                "tags": [
                  "Search"
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SearchResults"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  }
                },
                "operationId": "search",
                "description": "Case- and accent-blind; the last word matches as a prefix; one typo allowed in words of 4+ letters, two in 8+; words may come in any order and from any field (title, artist, album); punctuation-tolerant (AC/DC = acdc). Ranked exact phrase > all words exact > prefix > fuzzy, then popularity (decayed plays), then recency. Codes: empty_query, query_too_long, invalid_limit, invalid_types.",
                "parameters": [
                  {
                    "name": "q",
                    "in": "query",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 200
                    }
                  },
                  {
                    "name": "types",
                    "in": "query",
                    "schema": {
                      "type": "string",
                      "default": "track,album,artist"
                    },
                    "description": "Comma-separated: track, album, artist"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 50,
                      "default": 10
                    }
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "maximum": 1000,
                      "default": 0
                    }
                  }
                ],
                "security": [
                  {
                    "bearerAuth": []
                  }
                ]
              }
            },
            "/media/{token}/{key}": {
              "get": {
                "summary": "Fetch a stored object through a signed URL",
                "tags": [
                  "Media"
                ],
                "responses": {
                  "200": {
                    "description": "The whole object",
                    "headers": {
                      "Accept-Ranges": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "ETag": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Content-Range": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "content": {
                      "audio/*": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      },
                      "application/octet-stream": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      }
                    }
                  },
                  "206": {
                    "description": "The requested range",
                    "headers": {
                      "Accept-Ranges": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "ETag": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Content-Range": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "content": {
                      "audio/*": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      },
                      "application/octet-stream": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      }
                    }
                  },
                  "304": {
                    "description": "Not modified (If-None-Match)"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "416": {
                    "$ref": "#/components/responses/RangeNotSatisfiable"
                  }
                },
                "operationId": "getMedia",
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Signature issued by the API; binds method, key prefix, expiry and (uploads) size."
                  },
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "pattern": "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"
                    },
                    "description": "Object key; may contain slashes."
                  },
                  {
                    "name": "Range",
                    "in": "header",
                    "schema": {
                      "type": "string",
                      "example": "bytes=0-1023"
                    },
                    "description": "RFC 9110 single byte range: `a-b`, `a-` or suffix `-n`. Several ranges are answered with the whole object."
                  },
                  {
                    "name": "If-None-Match",
                    "in": "header",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "If-Range",
                    "in": "header",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "security": []
              },
              "head": {
                "summary": "Headers of a stored object through a signed URL",
                "tags": [
                  "Media"
                ],
                "responses": {
                  "200": {
                    "description": "Headers only",
                    "headers": {
                      "Accept-Ranges": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "ETag": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Content-Range": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "206": {
                    "description": "Headers of the range",
                    "headers": {
                      "Accept-Ranges": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "ETag": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Content-Range": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "304": {
                    "description": "Not modified"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "416": {
                    "$ref": "#/components/responses/RangeNotSatisfiable"
                  }
                },
                "operationId": "headMedia",
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Signature issued by the API; binds method, key prefix, expiry and (uploads) size."
                  },
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "pattern": "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"
                    },
                    "description": "Object key; may contain slashes."
                  },
                  {
                    "name": "Range",
                    "in": "header",
                    "schema": {
                      "type": "string",
                      "example": "bytes=0-1023"
                    },
                    "description": "RFC 9110 single byte range: `a-b`, `a-` or suffix `-n`. Several ranges are answered with the whole object."
                  }
                ],
                "security": []
              },
              "put": {
                "summary": "Upload an object through a pre-signed URL",
                "tags": [
                  "Media"
                ],
                "responses": {
                  "201": {
                    "description": "Stored",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UploadReceipt"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  }
                },
                "operationId": "putMedia",
                "description": "Streams to disk; nothing is kept unless the whole body arrives within the size limit. Each upload URL stores one object once.",
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Signature issued by the API; binds method, key prefix, expiry and (uploads) size."
                  },
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "pattern": "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"
                    },
                    "description": "Object key; may contain slashes."
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "audio/*": {
                      "schema": {
                        "type": "string",
                        "format": "binary"
                      }
                    },
                    "application/octet-stream": {
                      "schema": {
                        "type": "string",
                        "format": "binary"
                      }
                    }
                  }
                },
                "security": []
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT"
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "required": [
                  "error"
                ],
                "properties": {
                  "error": {
                    "type": "object",
                    "required": [
                      "code",
                      "message"
                    ],
                    "properties": {
                      "code": {
                        "type": "string",
                        "description": "Stable, machine-readable code",
                        "examples": [
                          "track_not_found"
                        ]
                      },
                      "message": {
                        "type": "string"
                      }
                    }
                  }
                }
              },
              "Status": {
                "type": "object",
                "required": [
                  "status"
                ],
                "properties": {
                  "status": {
                    "type": "string"
                  }
                }
              },
              "PageInfo": {
                "type": "object",
                "required": [
                  "limit",
                  "offset",
                  "nextOffset"
                ],
                "properties": {
                  "limit": {
                    "type": "integer"
                  },
                  "offset": {
                    "type": "integer"
                  },
                  "nextOffset": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "description": "Offset of the next page; null on the last page"
                  }
                }
              },
              "Role": {
                "type": "string",
                "enum": [
                  "listener",
                  "artist",
                  "admin"
                ]
              },
              "User": {
                "type": "object",
                "required": [
                  "id",
                  "email",
                  "displayName",
                  "role",
                  "createdAt",
                  "updatedAt"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "email": {
                    "type": "string",
                    "format": "email"
                  },
                  "displayName": {
                    "type": "string"
                  },
                  "role": {
                    "$ref": "#/components/schemas/Role"
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updatedAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "Session": {
                "type": "object",
                "required": [
                  "user",
                  "token",
                  "expiresAt"
                ],
                "properties": {
                  "user": {
                    "$ref": "#/components/schemas/User"
                  },
                  "token": {
                    "type": "string",
                    "description": "JWT (HS256) for `Authorization: Bearer`"
                  },
                  "expiresAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "RegisterRequest": {
                "type": "object",
                "required": [
                  "email",
                  "password",
                  "displayName",
                  "role"
                ],
                "properties": {
                  "email": {
                    "type": "string"
                  },
                  "password": {
                    "type": "string",
                    "minLength": 8,
                    "description": "8 characters to 72 bytes"
                  },
                  "displayName": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 100
                  },
                  "role": {
                    "type": "string",
                    "enum": [
                      "listener",
                      "artist"
                    ]
                  }
                }
              },
              "LoginRequest": {
                "type": "object",
                "required": [
                  "email",
                  "password"
                ],
                "properties": {
                  "email": {
                    "type": "string"
                  },
                  "password": {
                    "type": "string"
                  }
                }
              },
              "UserPatch": {
                "type": "object",
                "required": [],
                "properties": {
                  "displayName": {
                    "type": "string"
                  },
                  "email": {
                    "type": "string"
                  },
                  "password": {
                    "type": "string"
                  },
                  "currentPassword": {
                    "type": "string"
                  }
                }
              },
              "Artist": {
                "type": "object",
                "required": [
                  "id",
                  "ownerId",
                  "name",
                  "bio",
                  "createdAt",
                  "updatedAt"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "ownerId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "name": {
                    "type": "string"
                  },
                  "bio": {
                    "type": "string"
                  },
                  "country": {
                    "type": "string",
                    "description": "ISO 3166-1 alpha-2"
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updatedAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "ArtistCreate": {
                "type": "object",
                "required": [
                  "name"
                ],
                "properties": {
                  "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "bio": {
                    "type": "string",
                    "maxLength": 5000
                  },
                  "country": {
                    "type": "string",
                    "description": "ISO 3166-1 alpha-2"
                  }
                }
              },
              "ArtistPatch": {
                "type": "object",
                "required": [],
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "bio": {
                    "type": "string"
                  },
                  "country": {
                    "type": "string",
                    "description": "Empty string clears it"
                  }
                }
              },
              "Album": {
                "type": "object",
                "required": [
                  "id",
                  "artistId",
                  "title",
                  "createdAt",
                  "updatedAt"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "artistId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string"
                  },
                  "genre": {
                    "type": "string"
                  },
                  "releaseDate": {
                    "type": "string",
                    "format": "date"
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updatedAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "AlbumCreate": {
                "type": "object",
                "required": [
                  "artistId",
                  "title"
                ],
                "properties": {
                  "artistId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string"
                  },
                  "genre": {
                    "type": "string",
                    "maxLength": 50
                  },
                  "releaseDate": {
                    "type": "string",
                    "format": "date"
                  }
                }
              },
              "AlbumPatch": {
                "type": "object",
                "required": [],
                "properties": {
                  "title": {
                    "type": "string"
                  },
                  "genre": {
                    "type": "string",
                    "description": "Empty string clears it"
                  },
                  "releaseDate": {
                    "type": "string",
                    "description": "YYYY-MM-DD; empty string clears it"
                  }
                }
              },
              "TrackStatus": {
                "type": "string",
                "enum": [
                  "pending",
                  "processing",
                  "ready",
                  "failed"
                ]
              },
              "AudioInfo": {
                "type": "object",
                "required": [
                  "container",
                  "codec",
                  "contentType",
                  "sampleRate",
                  "channels",
                  "sizeBytes"
                ],
                "properties": {
                  "container": {
                    "type": "string"
                  },
                  "codec": {
                    "type": "string"
                  },
                  "contentType": {
                    "type": "string"
                  },
                  "sampleRate": {
                    "type": "integer"
                  },
                  "channels": {
                    "type": "integer"
                  },
                  "bitRate": {
                    "type": "integer"
                  },
                  "sizeBytes": {
                    "type": "integer"
                  }
                }
              },
              "Failure": {
                "type": "object",
                "required": [
                  "code",
                  "message"
                ],
                "properties": {
                  "code": {
                    "type": "string",
                    "enum": [
                      "invalid_audio",
                      "duplicate_audio",
                      "processing_failed"
                    ]
                  },
                  "message": {
                    "type": "string"
                  }
                }
              },
              "Loudness": {
                "type": "object",
                "required": [
                  "integratedLufs",
                  "truePeakDbtp",
                  "trackGainDb"
                ],
                "properties": {
                  "integratedLufs": {
                    "type": "number",
                    "description": "ITU-R BS.1770 integrated loudness"
                  },
                  "truePeakDbtp": {
                    "type": "number"
                  },
                  "trackGainDb": {
                    "type": "number",
                    "description": "Gain to reach -14 LUFS with true peaks at or below -1 dBTP"
                  }
                }
              },
              "Rendition": {
                "type": "object",
                "required": [
                  "protocols",
                  "codec",
                  "codecs",
                  "bitrateKbps",
                  "averageBandwidth",
                  "peakBandwidth"
                ],
                "properties": {
                  "protocols": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "codec": {
                    "type": "string"
                  },
                  "codecs": {
                    "type": "string"
                  },
                  "bitrateKbps": {
                    "type": "integer"
                  },
                  "averageBandwidth": {
                    "type": "integer"
                  },
                  "peakBandwidth": {
                    "type": "integer"
                  }
                }
              },
              "ProgressiveFile": {
                "type": "object",
                "required": [
                  "format",
                  "codec",
                  "contentType",
                  "sizeBytes"
                ],
                "properties": {
                  "format": {
                    "type": "string"
                  },
                  "codec": {
                    "type": "string"
                  },
                  "bitrateKbps": {
                    "type": "integer",
                    "description": "Absent for the lossless original"
                  },
                  "contentType": {
                    "type": "string"
                  },
                  "sizeBytes": {
                    "type": "integer"
                  }
                }
              },
              "Track": {
                "type": "object",
                "required": [
                  "id",
                  "albumId",
                  "artistId",
                  "title",
                  "trackNumber",
                  "durationMs",
                  "status",
                  "createdAt",
                  "updatedAt"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "albumId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "artistId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string"
                  },
                  "trackNumber": {
                    "type": "integer"
                  },
                  "durationMs": {
                    "type": "integer",
                    "description": "0 until processed"
                  },
                  "status": {
                    "$ref": "#/components/schemas/TrackStatus"
                  },
                  "failureReason": {
                    "$ref": "#/components/schemas/Failure"
                  },
                  "replacement": {
                    "type": "object",
                    "required": [
                      "status"
                    ],
                    "properties": {
                      "status": {
                        "$ref": "#/components/schemas/TrackStatus"
                      }
                    }
                  },
                  "audio": {
                    "$ref": "#/components/schemas/AudioInfo"
                  },
                  "loudness": {
                    "$ref": "#/components/schemas/Loudness"
                  },
                  "renditions": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Rendition"
                    }
                  },
                  "progressive": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/ProgressiveFile"
                    }
                  },
                  "linkedTrackId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updatedAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "TrackCreate": {
                "type": "object",
                "required": [
                  "albumId",
                  "title",
                  "trackUrl"
                ],
                "properties": {
                  "albumId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "trackUrl": {
                    "type": "string",
                    "description": "The `trackUrl` from GET /tracks/upload-url",
                    "examples": [
                      "blob:uploads/<userId>/<uploadId>"
                    ]
                  },
                  "trackNumber": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 999,
                    "description": "Default: the next free number"
                  }
                }
              },
              "TrackPatch": {
                "type": "object",
                "required": [],
                "properties": {
                  "albumId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string"
                  },
                  "trackNumber": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 999
                  },
                  "trackUrl": {
                    "type": "string",
                    "description": "From GET /tracks/update-url/{id}: replaces the audio"
                  }
                },
                "minProperties": 1
              },
              "UploadGrant": {
                "type": "object",
                "required": [
                  "uploadUrl",
                  "trackUrl",
                  "expiresAt",
                  "maxBytes"
                ],
                "properties": {
                  "uploadUrl": {
                    "type": "string",
                    "format": "uri"
                  },
                  "trackUrl": {
                    "type": "string"
                  },
                  "expiresAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "maxBytes": {
                    "type": "integer"
                  }
                }
              },
              "UploadReceipt": {
                "type": "object",
                "required": [
                  "size",
                  "etag"
                ],
                "properties": {
                  "size": {
                    "type": "integer"
                  },
                  "etag": {
                    "type": "string"
                  }
                }
              },
              "StreamGrant": {
                "type": "object",
                "required": [
                  "trackUrl",
                  "hls",
                  "dash",
                  "progressive",
                  "trackId",
                  "albumId",
                  "artistId",
                  "title",
                  "durationMs",
                  "loudness",
                  "expiresAt"
                ],
                "properties": {
                  "trackUrl": {
                    "type": "string",
                    "format": "uri",
                    "description": "The HLS multivariant playlist (same as hls)"
                  },
                  "hls": {
                    "type": "string",
                    "format": "uri"
                  },
                  "dash": {
                    "type": "string",
                    "format": "uri"
                  },
                  "progressive": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "format",
                        "codec",
                        "contentType",
                        "url"
                      ],
                      "properties": {
                        "format": {
                          "type": "string"
                        },
                        "codec": {
                          "type": "string"
                        },
                        "bitrateKbps": {
                          "type": "integer"
                        },
                        "contentType": {
                          "type": "string"
                        },
                        "url": {
                          "type": "string",
                          "format": "uri"
                        }
                      }
                    }
                  },
                  "trackId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "albumId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "artistId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string"
                  },
                  "durationMs": {
                    "type": "integer"
                  },
                  "loudness": {
                    "$ref": "#/components/schemas/Loudness"
                  },
                  "expiresAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "Playlist": {
                "type": "object",
                "required": [
                  "id",
                  "ownerId",
                  "title",
                  "isPublic",
                  "trackCount",
                  "createdAt",
                  "updatedAt"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "ownerId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "title": {
                    "type": "string"
                  },
                  "isPublic": {
                    "type": "boolean"
                  },
                  "trackCount": {
                    "type": "integer"
                  },
                  "createdAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updatedAt": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "PlaylistCreate": {
                "type": "object",
                "required": [
                  "title"
                ],
                "properties": {
                  "title": {
                    "type": "string"
                  },
                  "isPublic": {
                    "type": "boolean",
                    "default": false
                  }
                }
              },
              "PlaylistPatch": {
                "type": "object",
                "required": [],
                "properties": {
                  "title": {
                    "type": "string"
                  },
                  "isPublic": {
                    "type": "boolean"
                  }
                }
              },
              "PlaylistAdd": {
                "type": "object",
                "required": [
                  "trackId"
                ],
                "properties": {
                  "trackId": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "position": {
                    "type": "integer",
                    "minimum": 0
                  }
                }
              },
              "PlaylistMove": {
                "type": "object",
                "required": [
                  "from",
                  "to"
                ],
                "properties": {
                  "from": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "to": {
                    "type": "integer",
                    "minimum": 0
                  }
                }
              },
              "PlaylistEntry": {
                "type": "object",
                "required": [
                  "position",
                  "addedAt",
                  "track"
                ],
                "properties": {
                  "position": {
                    "type": "integer"
                  },
                  "addedAt": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "track": {
                    "$ref": "#/components/schemas/Track"
                  }
                }
              },
              "Deleted": {
                "type": "object",
                "required": [
                  "id"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "format": "uuid"
                  }
                }
              },
              "SearchResults": {
                "type": "object",
                "required": [
                  "query",
                  "tracks",
                  "albums",
                  "artists"
                ],
                "properties": {
                  "query": {
                    "type": "string"
                  },
                  "tracks": {
                    "type": "array",
                    "items": {
                      "allOf": [
                        {
                          "$ref": "#/components/schemas/Track"
                        },
                        {
                          "type": "object",
                          "required": [
                            "score",
                            "playable",
                            "artistName",
                            "albumTitle"
                          ],
                          "properties": {
                            "score": {
                              "type": "number"
                            },
                            "playable": {
                              "type": "boolean",
                              "description": "Ready and allowed for the caller"
                            },
                            "artistName": {
                              "type": "string"
                            },
                            "albumTitle": {
                              "type": "string"
                            }
                          }
                        }
                      ]
                    }
                  },
                  "albums": {
                    "type": "array",
                    "items": {
                      "allOf": [
                        {
                          "$ref": "#/components/schemas/Album"
                        },
                        {
                          "type": "object",
                          "required": [
                            "score",
                            "artistName"
                          ],
                          "properties": {
                            "score": {
                              "type": "number"
                            },
                            "artistName": {
                              "type": "string"
                            }
                          }
                        }
                      ]
                    }
                  },
                  "artists": {
                    "type": "array",
                    "items": {
                      "allOf": [
                        {
                          "$ref": "#/components/schemas/Artist"
                        },
                        {
                          "type": "object",
                          "required": [
                            "score"
                          ],
                          "properties": {
                            "score": {
                              "type": "number"
                            }
                          }
                        }
                      ]
                    }
                  },
                  "top": {
                    "type": "object",
                    "required": [
                      "type",
                      "id"
                    ],
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "track",
                          "album",
                          "artist"
                        ]
                      },
                      "id": {
                        "type": "string",
                        "format": "uuid"
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "BadRequest": {
                "description": "Malformed input: invalid_body, missing_body, invalid_id, invalid_limit, invalid_<field> …",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unauthorized": {
                "description": "Missing, invalid or expired token, or wrong credentials",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "Not allowed: forbidden, artist_role_required, upload_not_yours, invalid_signature, url_expired, method_not_allowed, outside_scope …",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "NotFound": {
                "description": "Unknown id or route: <thing>_not_found, not_found",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Conflict": {
                "description": "email_taken, track_number_taken, track_not_ready, track_failed, object_exists …",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "TooLarge": {
                "description": "body_too_large, upload_too_large",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "RangeNotSatisfiable": {
                "description": "range_not_satisfiable; Content-Range: bytes */size",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unprocessable": {
                "description": "invalid_audio (with the reason), upload_missing",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unavailable": {
                "description": "Storage or media tools unavailable",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            }
          }
        }
        """##
}
