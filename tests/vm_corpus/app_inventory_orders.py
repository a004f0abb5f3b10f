"""An order-processing application: dataclasses, enums, validation errors, discounts, reports."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum


class Status(Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class OrderError(Exception):
    pass


class OutOfStock(OrderError):
    def __init__(self, sku, wanted, available):
        super().__init__(f"{sku}: wanted {wanted}, only {available} left")
        self.sku = sku


@dataclass
class Product:
    sku: str
    name: str
    price: Decimal
    stock: int


@dataclass
class Line:
    product: Product
    quantity: int

    @property
    def total(self):
        return self.product.price * self.quantity


@dataclass
class Order:
    ident: int
    customer: str
    lines: list = field(default_factory=list)
    status: Status = Status.NEW
    coupon: str | None = None

    TRANSITIONS = {Status.NEW: {Status.PAID, Status.CANCELLED}, Status.PAID: {Status.SHIPPED, Status.CANCELLED}}

    def subtotal(self):
        return sum((line.total for line in self.lines), Decimal("0"))

    def discount(self):
        if self.coupon == "TENOFF":
            return (self.subtotal() * Decimal("0.10")).quantize(Decimal("0.01"))
        if self.coupon == "BULK" and sum(line.quantity for line in self.lines) >= 10:
            return Decimal("5.00")
        return Decimal("0")

    def total(self):
        return self.subtotal() - self.discount()

    def move_to(self, status):
        if status not in self.TRANSITIONS.get(self.status, set()):
            raise OrderError(f"order {self.ident}: cannot go from {self.status.value} to {status.value}")
        self.status = status


class Store:
    def __init__(self, products):
        self.products = {p.sku: p for p in products}
        self.orders = []

    def place(self, customer, items, coupon=None):
        order = Order(len(self.orders) + 1, customer, coupon=coupon)
        for sku, quantity in items:
            product = self.products[sku]
            if product.stock < quantity:
                raise OutOfStock(sku, quantity, product.stock)
            order.lines.append(Line(product, quantity))
        for line in order.lines:
            line.product.stock -= line.quantity
        self.orders.append(order)
        return order

    def cancel(self, order):
        order.move_to(Status.CANCELLED)
        for line in order.lines:
            line.product.stock += line.quantity

    def report(self):
        rows = []
        for order in self.orders:
            rows.append(f"#{order.ident:<3}{order.customer:<8}{order.status.value:<10}{order.total():>9}")
        revenue = sum((o.total() for o in self.orders if o.status is not Status.CANCELLED), Decimal(0))
        rows.append(f"revenue {revenue}")
        return "\n".join(rows)


store = Store([Product("A1", "pen", Decimal("1.20"), 50), Product("B2", "pad", Decimal("3.75"), 5),
               Product("C3", "ink", Decimal("12.00"), 2)])
first = store.place("ann", [("A1", 10), ("B2", 1)], coupon="BULK")
second = store.place("bob", [("C3", 2)], coupon="TENOFF")
first.move_to(Status.PAID)
first.move_to(Status.SHIPPED)
try:
    store.place("cy", [("C3", 1)])
except OutOfStock as error:
    print("rejected:", error, "| sku", error.sku)
store.cancel(second)
third = store.place("cy", [("C3", 1), ("B2", 4)])
print(store.report())
print({sku: p.stock for sku, p in store.products.items()})
try:
    first.move_to(Status.PAID)
except OrderError as error:
    print(error)
store.place("dee", [("Z9", 1)])
