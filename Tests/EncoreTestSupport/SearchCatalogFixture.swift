import EncoreCore
import Foundation

/// A small catalog of real-world names, with the diacritics, punctuation and shared words that make
/// search hard: (artist, album, tracks).
enum SearchCatalogFixture {
    static let entries: [(artist: String, album: String, tracks: [String])] = [
        ("Beyoncé", "Lemonade", ["Formation", "Hold Up", "Sorry"]),
        ("Metallica", "Master of Puppets", ["Battery", "Master of Puppets", "Orion"]),
        ("Sigur Rós", "Ágætis byrjun", ["Svefn-g-englar", "Starálfur", "Olsen Olsen"]),
        ("Queen", "A Night at the Opera", ["Bohemian Rhapsody", "Love of My Life", "You're My Best Friend"]),
        ("ABBA", "Arrival", ["Dancing Queen", "Knowing Me, Knowing You", "Money, Money, Money"]),
        ("AC/DC", "Back in Black", ["Hells Bells", "Back in Black", "You Shook Me All Night Long"]),
        ("Guns N' Roses", "Appetite for Destruction", ["Welcome to the Jungle", "Sweet Child o' Mine", "Paradise City"]),
        ("Björk", "Homogenic", ["Jóga", "Bachelorette", "All Is Full of Love"]),
        ("Mötley Crüe", "Dr. Feelgood", ["Kickstart My Heart", "Dr. Feelgood", "Without You"]),
        ("Motörhead", "Ace of Spades", ["Ace of Spades", "Love Me Like a Reptile", "The Chase Is Better Than the Catch"]),
        ("Daft Punk", "Discovery", ["One More Time", "Digital Love", "Harder, Better, Faster, Stronger"]),
        ("Queens of the Stone Age", "Songs for the Deaf", ["No One Knows", "Go with the Flow", "First It Giveth"]),
        ("Radiohead", "OK Computer", ["Paranoid Android", "Karma Police", "No Surprises"]),
        ("Nirvana", "Nevermind", ["Smells Like Teen Spirit", "Come as You Are", "Lithium"]),
        ("The Beatles", "Abbey Road", ["Come Together", "Something", "Here Comes the Sun"]),
        ("Fleetwood Mac", "Rumours", ["Dreams", "Go Your Own Way", "The Chain"]),
        ("Rosalía", "El Mal Querer", ["Malamente", "Pienso en Tu Mirá", "Bagdad"]),
        ("Céline Dion", "Let's Talk About Love", ["My Heart Will Go On", "Immortality", "Treat Her Like a Lady"]),
        ("Sinéad O'Connor", "I Do Not Want What I Haven't Got", ["Nothing Compares 2 U", "The Emperor's New Clothes", "Three Babies"]),
        ("Michael Jackson", "Thriller", ["Billie Jean", "Beat It", "Thriller"]),
        ("Prince", "Purple Rain", ["When Doves Cry", "Purple Rain", "Let's Go Crazy"]),
        ("Led Zeppelin", "Led Zeppelin IV", ["Stairway to Heaven", "Black Dog", "Rock and Roll"]),
        ("Pink Floyd", "The Dark Side of the Moon", ["Money", "Time", "Us and Them"]),
        ("Simon & Garfunkel", "Bridge over Troubled Water", ["Bridge over Troubled Water", "The Boxer", "Cecilia"]),
        ("Earth, Wind & Fire", "I Am", ["September", "Boogie Wonderland", "After the Love Has Gone"]),
        ("Mumford & Sons", "Sigh No More", ["Little Lion Man", "The Cave", "Awake My Soul"]),
        ("Édith Piaf", "La Vie en rose", ["La Vie en rose", "Non, je ne regrette rien", "Hymne à l'amour"]),
        ("Stromae", "Racine carrée", ["Papaoutai", "Formidable", "Tous les mêmes"]),
        ("Zoë Kravitz", "Lolawolf", ["Bitch", "Drive", "Jenny"]),
        ("Kraftwerk", "Trans-Europe Express", ["Europe Endless", "Trans-Europe Express", "Showroom Dummies"]),
        ("Rammstein", "Mutter", ["Sonne", "Mein Herz brennt", "Feuer frei!"]),
        ("Måneskin", "Teatro d'ira", ["Zitti e buoni", "I Wanna Be Your Slave", "Coraline"]),
        ("Tiësto", "Elements of Life", ["Ten Seconds Before Sunrise", "Driving to Heaven", "Dance4Life"]),
        ("Blink-182", "Enema of the State", ["All the Small Things", "What's My Age Again?", "Adam's Song"]),
        ("Sade", "Diamond Life", ["Smooth Operator", "Your Love Is King", "Hang On to Your Love"]),
        ("Bob Marley & The Wailers", "Exodus", ["Jamming", "Three Little Birds", "One Love"]),
        ("Red Hot Chili Peppers", "Californication", ["Scar Tissue", "Otherside", "Californication"]),
        ("Beastie Boys", "Ill Communication", ["Sabotage", "Sure Shot", "Root Down"]),
        ("Lynyrd Skynyrd", "Pronounced 'Lĕh-'nérd 'Skin-'nérd", ["Free Bird", "Simple Man", "Tuesday's Gone"]),
        ("The Weeknd", "After Hours", ["Blinding Lights", "Save Your Tears", "In Your Eyes"]),
    ]
}
