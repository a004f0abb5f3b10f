"""A tiny text adventure engine driven by a scripted list of commands (rooms, items, doors, scoring)."""


class Room:
    def __init__(self, name, description):
        self.name, self.description = name, description
        self.exits = {}
        self.items = set()
        self.locked = {}

    def connect(self, direction, other, back, key=None):
        self.exits[direction] = other
        other.exits[back] = self
        if key:
            self.locked[direction] = key


class Game:
    def __init__(self):
        hall = Room("hall", "A dusty hall.")
        kitchen = Room("kitchen", "Smells of old bread.")
        cellar = Room("cellar", "Dark and damp.")
        vault = Room("vault", "Gold glitters everywhere.")
        hall.connect("north", kitchen, "south")
        kitchen.connect("down", cellar, "up")
        cellar.connect("east", vault, "west", key="brass key")
        kitchen.items |= {"bread", "lamp"}
        cellar.items.add("brass key")
        vault.items.add("gold")
        self.room, self.inventory, self.score, self.moves = hall, [], 0, 0
        self.points = {"gold": 50, "brass key": 10, "lamp": 5}

    def do(self, line):
        self.moves += 1
        verb, _, noun = line.partition(" ")
        handler = getattr(self, f"cmd_{verb}", None)
        if handler is None:
            return f"I don't know how to {verb!r}."
        return handler(noun)

    def cmd_look(self, _):
        items = ", ".join(sorted(self.room.items)) or "nothing"
        exits = ", ".join(sorted(self.room.exits))
        return f"{self.room.name}: {self.room.description} You see {items}. Exits: {exits}."

    def cmd_go(self, direction):
        if direction not in self.room.exits:
            return "You can't go that way."
        key = self.room.locked.get(direction)
        if key and key not in self.inventory:
            return f"The way {direction} is locked."
        self.room = self.room.exits[direction]
        return self.cmd_look("")

    def cmd_take(self, item):
        if item not in self.room.items:
            return f"There is no {item} here."
        self.room.items.remove(item)
        self.inventory.append(item)
        self.score += self.points.get(item, 1)
        return f"Taken {item}."

    def cmd_drop(self, item):
        try:
            self.inventory.remove(item)
        except ValueError:
            return f"You don't have {item}."
        self.room.items.add(item)
        return f"Dropped {item}."

    def cmd_inventory(self, _):
        return "You carry: " + (", ".join(self.inventory) or "nothing")


SCRIPT = ["look", "go west", "go north", "take lamp", "take spoon", "go down", "go east", "take brass key",
          "go east", "take gold", "dance", "drop bread", "inventory", "go west", "go up", "drop lamp", "look"]
game = Game()
for command in SCRIPT:
    print(f"> {command}\n{game.do(command)}")
print(f"score {game.score} in {game.moves} moves")
game.do("go")
game.cmd_go(None)
game.room.exits[None]
